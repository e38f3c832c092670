/**
 * kubectl's streaming commands (exec with stdin, attach, logs -f, port-forward, cp) on real
 * pods, three ways: from inside an injected pod through its sidecar to a pod of its own
 * cluster, through its sidecar and the hub to a pod on east, and from a workstation through
 * the hub (`mca kubeconfig`) and through the host API server (`--via-host-api-server`).
 */
import { assert, assertEquals, assertStringIncludes } from "../_utils/assert.ts";
import { e2eTest, kubectl, kubectlOk, uniqueName } from "../_utils/e2e.ts";
import { type KubectlSession, startKubectl } from "../_utils/kubectl_session.ts";
import {
  editRole,
  HUB_SERVICE_URL,
  hubKubeconfig,
  injectedNamespace,
  installAgent,
  installMcaChart,
  viaHostApiKubeconfig,
} from "../_utils/mca_chart.ts";
import { apply, getPod, waitForPhase } from "../_utils/pods.ts";
import type { CommandResult } from "../_utils/run_command.ts";
import { tempDir } from "../_utils/temp_dir.ts";
import type { TestEnv } from "../../src/testenv/mod.ts";
import { waitFor } from "../../src/common/mod.ts";
import { createProgramsConfigMap, programContainer, PROGRAMS_VOLUME } from "./_pod_programs.ts";

/** One way for kubectl to reach the target pods. */
interface Path {
  name: string;
  /** The pod to reach. */
  target: string;
  run(args: string[], stdin?: string): Promise<CommandResult>;
  start(args: string[], options?: { stdin?: boolean }): Promise<KubectlSession>;
  /** GETs a local port of kubectl's side (where port-forward listens); the body. */
  fetchLocal(port: number): Promise<string>;
}

/** A pod for the streaming commands: the HTTP server, ticks and payload, and an echo on stdin. */
function targetPod(env: TestEnv, namespace: string, name: string): Record<string, unknown> {
  const deno = env.images!.deno.ref;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace, labels: { "mca.k8s.io/inject": "false" } },
    spec: {
      terminationGracePeriodSeconds: 1,
      volumes: [PROGRAMS_VOLUME],
      containers: [
        programContainer(deno, "main", "stream_target.ts"),
        // stdin stays open across attaches: each attach sees its own lines echoed.
        programContainer(deno, "echo", "echo.ts", { stdin: true, stdinOnce: false }),
      ],
    },
  };
}

/** Everything the paths need, set up once per environment. */
async function setUp(env: TestEnv): Promise<Path[]> {
  const host = env.cluster("host");
  const east = env.cluster("east");
  const { hubCaPem } = await installMcaChart(env);
  await installAgent(env, "east");
  const ns = await injectedNamespace(host, uniqueName("streams"));
  await editRole(east, ns);
  await createProgramsConfigMap(host, ns);
  await createProgramsConfigMap(east, ns);
  // The client pod's ServiceAccount may reach east through the hub (clusters/proxy on host).
  await apply(host, {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRole",
    metadata: { name: `${ns}-east` },
    rules: [{
      apiGroups: ["mca.k8s.io"],
      resources: ["clusters/proxy"],
      resourceNames: ["east"],
      verbs: ["get", "create", "update", "patch", "delete"],
    }],
  }, {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRoleBinding",
    metadata: { name: `${ns}-east` },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: `${ns}-east` },
    subjects: [{ kind: "ServiceAccount", name: "default", namespace: ns }],
  }, {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "mca-proxy", namespace: ns },
    data: {
      "config.yaml": JSON.stringify({
        clusters: {
          east: { via: "hub", hub: HUB_SERVICE_URL, cluster: "east", caFile: "hub-ca.crt" },
        },
        routes: [{
          name: "east-target",
          match: { resources: ["pods"], names: ["target-east"] },
          cluster: "east",
        }],
      }),
      "hub-ca.crt": hubCaPem,
    },
  });
  await apply(host, targetPod(env, ns, "target-host"), {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "client", namespace: ns },
    spec: {
      terminationGracePeriodSeconds: 1,
      volumes: [PROGRAMS_VOLUME],
      containers: [
        {
          name: "kubectl",
          image: env.images!.kubectl.ref,
          imagePullPolicy: "Never",
          // Keeps the container running, with a watch through the sidecar.
          args: ["get", "configmaps", "--watch-only", "-o", "name"],
          env: [{ name: "HOME", value: "/tmp" }],
        },
        // Fetches what an in-pod port-forward serves (same network namespace).
        programContainer(env.images!.deno.ref, "helper", "idle.ts"),
      ],
    },
  });
  await apply(east, targetPod(env, ns, "target-east"));
  for (const [cluster, pod] of [[host, "target-host"], [host, "client"], [east, "target-east"]]) {
    await waitForPhase(cluster as typeof host, ns, pod as string, "Running", 120_000);
  }
  const client = await getPod(host, ns, "client");
  assert(
    (client.status.initContainerStatuses ?? []).some((status) => status.name === "mca-proxy"),
    "the client pod was injected",
  );

  const inPod = (target: string): Path => ({
    name: `inside an injected pod, through its sidecar, to ${target}`,
    target,
    run: (args, stdin) =>
      kubectl(
        host,
        ["exec", ...(stdin === undefined ? [] : ["-i"]), "client", "-n", ns, "-c", "kubectl", "--"]
          .concat(["kubectl", "-n", ns, ...args]),
        stdin === undefined ? {} : { stdin },
      ),
    start: (args, options) =>
      startKubectl(
        host,
        ["exec", ...(options?.stdin ? ["-i"] : []), "client", "-n", ns, "-c", "kubectl", "--"]
          .concat(["kubectl", "-n", ns, ...args]),
        options,
      ),
    fetchLocal: (port) =>
      kubectlOk(host, [
        "exec",
        "client",
        "-n",
        ns,
        "-c",
        "helper",
        "--",
        "deno",
        "eval",
        `console.log(await (await fetch("http://127.0.0.1:${port}/")).text())`,
      ]),
  });
  const dir = await Deno.makeTempDir({ prefix: "mca-streams-" });
  const members = await hubKubeconfig(env, dir, ["east"]);
  const throughHub = workstationPath("through the hub", members, ns);
  return [
    inPod("target-host"),
    inPod("target-east"),
    throughHub,
    await throughHostApiServer(env, ns, dir),
  ];
}

/**
 * The host admin's own kubeconfig (client certificate) through the host API server: the
 * aggregated entrance, where kube-apiserver proxies the upgrade to the hub.
 */
async function throughHostApiServer(env: TestEnv, ns: string, dir: string): Promise<Path> {
  // On east the caller is the certificate's user (its host groups are not passed by default).
  await kubectlOk(env.cluster("east"), [
    "create",
    "rolebinding",
    "host-admin-cert",
    "--clusterrole=admin",
    "--user=mca-admin-cert",
    "-n",
    ns,
  ]);
  const kubeconfig = await viaHostApiKubeconfig(env, dir, ["east"]);
  return workstationPath("through the host API server (aggregated)", kubeconfig, ns);
}

/** kubectl on this machine reaching target-east with a kubeconfig's "east" context. */
function workstationPath(way: string, kubeconfig: string, ns: string): Path {
  const withContext = (args: string[]) => ["--context=east", "-n", ns, ...args];
  return {
    name: `from a workstation ${way} to target-east`,
    target: "target-east",
    run: (args, stdin) =>
      kubectl(kubeconfig, withContext(args), stdin === undefined ? {} : { stdin }),
    start: (args, options) => startKubectl(kubeconfig, withContext(args), options),
    fetchLocal: async (port) => await (await fetch(`http://127.0.0.1:${port}/`)).text(),
  };
}

const paths = new WeakMap<TestEnv, Promise<Path[]>>();
function pathsOf(env: TestEnv): Promise<Path[]> {
  let found = paths.get(env);
  if (!found) paths.set(env, found = setUp(env));
  return found;
}

async function ok(path: Path, args: string[], stdin?: string): Promise<string> {
  const result = await path.run(args, stdin);
  assertEquals(result.code, 0, `${path.name}: kubectl ${args.join(" ")}:\n${result.stderr}`);
  return result.stdout;
}

e2eTest(
  "kubectl exec, with stdin, through the sidecar, the hub and the host API server",
  async (env) => {
    for (const path of await pathsOf(env)) {
      const hostname = await ok(path, [
        "exec",
        path.target,
        "-c",
        "main",
        "--",
        "deno",
        "eval",
        "console.log(Deno.hostname())",
      ]);
      assertEquals(hostname.trim(), path.target, path.name);
      const counted = await ok(path, [
        "exec",
        "-i",
        path.target,
        "-c",
        "main",
        "--",
        "deno",
        "eval",
        "console.log((await new Response(Deno.stdin.readable).text()).length)",
      ], "x".repeat(100_000));
      assertEquals(
        counted.trim(),
        "100000",
        `${path.name}: stdin reached the command, then its end`,
      );
      const failed = await path.run([
        "exec",
        path.target,
        "-c",
        "main",
        "--",
        "deno",
        "eval",
        "Deno.exit(3)",
      ]);
      assertEquals(failed.code, 3, `${path.name}: the command's exit code comes back`);
    }
  },
  { nodes: true },
);

e2eTest(
  "kubectl logs -f follows a container's log through the sidecar, the hub and the host API server",
  async (env) => {
    for (const path of await pathsOf(env)) {
      await using follow = await path.start(["logs", "-f", path.target, "-c", "main"]);
      const first = Number((await follow.waitFor(/tick (\d+)/))[1]);
      // Lines written after kubectl started arrive while it runs.
      await follow.waitFor(new RegExp(`tick ${first + 3}\\b`), 30_000);
    }
  },
  { nodes: true },
);

e2eTest(
  "kubectl attach -i echoes through the sidecar, the hub and the host API server",
  async (env) => {
    for (const path of await pathsOf(env)) {
      await using attach = await path.start(["attach", "-i", path.target, "-c", "echo"], {
        stdin: true,
      });
      const word = uniqueName("word");
      // The attach is live once kubectl prints its hint; lines sent before that may be lost.
      await waitFor(async () => {
        await attach.write(`${word}\n`);
        return attach.stdout().includes(`echo: ${word}`);
      }, {
        timeoutMs: 30_000,
        intervalMs: 1_000,
        description: `${path.name}: the echo of "${word}"`,
      });
    }
  },
  { nodes: true },
);

e2eTest(
  "kubectl port-forward through the sidecar, the hub and the host API server",
  async (env) => {
    for (const path of await pathsOf(env)) {
      // A free local port of kubectl's choosing (in the client pod, or on this machine).
      await using forward = await path.start(["port-forward", `pod/${path.target}`, ":8080"]);
      const local = Number((await forward.waitFor(/Forwarding from 127\.0\.0\.1:(\d+)/))[1]);
      const body = await waitFor(async () => (await path.fetchLocal(local)).trim(), {
        timeoutMs: 30_000,
        description: `${path.name}: an answer through port ${local}`,
      });
      assertEquals(body, `hello from ${path.target}`, path.name);
    }
  },
  { nodes: true },
);

e2eTest(
  "kubectl cp into and out of a pod through the sidecar, the hub and the host API server",
  async (env) => {
    await using dir = await tempDir("mca-cp-");
    for (const path of await pathsOf(env)) {
      const local = path.name.startsWith("inside")
        ? `/tmp/${path.target}-copy.txt`
        : `${dir.path}/${path.target}.txt`;
      await ok(path, ["cp", "-c", "main", `${path.target}:/tmp/payload.txt`, local]);
      await ok(path, ["cp", "-c", "main", local, `${path.target}:/tmp/payload-back.txt`]);
      const read = (file: string) =>
        ok(path, [
          "exec",
          path.target,
          "-c",
          "main",
          "--",
          "deno",
          "eval",
          `console.log(Deno.readTextFileSync("${file}"))`,
        ]);
      const original = await read("/tmp/payload.txt");
      assertStringIncludes(original, `payload of ${path.target}`);
      assertEquals(
        await read("/tmp/payload-back.txt"),
        original,
        `${path.name}: the round trip kept the file`,
      );
    }
  },
  { nodes: true },
);
