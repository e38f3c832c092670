/**
 * The test clusters with real nodes behave like real clusters: Ready containerd nodes, the
 * controllers and the scheduler at work, the locally built images running (mca as the chart
 * runs it), Services and DNS inside a cluster and across clusters, kubectl exec and logs, and
 * no packet leaving the machine.
 */
import { assert, assertEquals, assertStringIncludes } from "../_utils/assert.ts";
import { e2eTest, kubectl, kubectlOk, uniqueName } from "../_utils/e2e.ts";
import { apply, getPod, oneShotPod, podLogs, waitForPhase } from "../_utils/pods.ts";
import type { TestEnv } from "../../src/testenv/mod.ts";
import { waitFor } from "../../src/common/mod.ts";

const withNodes = { nodes: true };

function images(env: TestEnv) {
  if (!env.images) throw new Error("The environment has no nodes");
  return env.images;
}

async function newNamespace(env: TestEnv, cluster: string, prefix: string): Promise<string> {
  const ns = uniqueName(prefix);
  await kubectlOk(env.cluster(cluster), ["create", "namespace", ns]);
  // Pods need the namespace's ServiceAccount, which the controller manager creates.
  await waitFor(
    async () =>
      (await kubectl(env.cluster(cluster), ["get", "sa", "default", "-n", ns])).code === 0,
    { description: `ServiceAccount "default" in "${ns}"` },
  );
  return ns;
}

e2eTest("kubectl get nodes shows one Ready containerd node per cluster", async (env) => {
  for (const cluster of env.clusters) {
    const nodes = JSON.parse(await kubectlOk(cluster, ["get", "nodes", "-o", "json"]));
    assertEquals(nodes.items.length, 1, `nodes of "${cluster.name}"`);
    const node = nodes.items[0];
    assertEquals(node.metadata.name, cluster.node?.name);
    const ready = node.status.conditions.find((c: { type: string }) => c.type === "Ready");
    assertEquals(ready.status, "True");
    assertEquals(node.status.nodeInfo.kubeletVersion, "v1.34.10");
    assertStringIncludes(node.status.nodeInfo.containerRuntimeVersion, "containerd://");
    const internal = node.status.addresses.find((a: { type: string }) => a.type === "InternalIP");
    assertEquals(internal.address, cluster.node?.network.nodeIp);
  }
}, withNodes);

e2eTest(
  "a new namespace gets its ServiceAccount and root CA, and a Deployment's pod runs",
  async (env) => {
    const host = env.cluster("host");
    const ns = uniqueName("deploy");
    await kubectlOk(host, ["create", "namespace", ns]);
    const rootCa = await waitFor(async () => {
      const found = await kubectl(host, [
        "get",
        "configmap",
        "kube-root-ca.crt",
        "-n",
        ns,
        "-o",
        "json",
      ]);
      return found.code === 0 && JSON.parse(found.stdout).data["ca.crt"];
    }, { description: `kube-root-ca.crt in "${ns}"` });
    assertEquals(rootCa.trim(), host.caPem.trim());
    await waitFor(
      async () => (await kubectl(host, ["get", "sa", "default", "-n", ns])).code === 0,
      {
        description: `ServiceAccount "default" in "${ns}"`,
      },
    );
    // The aggregated ClusterRoles have their rules (the aggregation controller runs).
    const view = JSON.parse(await kubectlOk(host, ["get", "clusterrole", "view", "-o", "json"]));
    assert(view.rules.length > 0, "ClusterRole view has aggregated rules");

    const created = Date.now();
    await apply(host, {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "sleeper", namespace: ns },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: "sleeper" } },
        template: {
          metadata: { labels: { app: "sleeper" } },
          spec: {
            terminationGracePeriodSeconds: 1,
            containers: [{
              name: "sleeper",
              image: images(env).deno.ref,
              imagePullPolicy: "Never",
              args: ["eval", "console.log('started'); setInterval(() => {}, 1 << 30)"],
            }],
          },
        },
      },
    });
    await kubectlOk(host, ["rollout", "status", "deployment/sleeper", "-n", ns, "--timeout=90s"]);
    const pods = JSON.parse(
      await kubectlOk(host, ["get", "pods", "-n", ns, "-l", "app=sleeper", "-o", "json"]),
    );
    const running = pods.items.filter((p: { status: { phase: string } }) =>
      p.status.phase === "Running"
    );
    assertEquals(running.length, 1);
    assertEquals(running[0].spec.nodeName, host.node?.name, "the scheduler placed it");
    console.log(
      `Deployment created to pod Running: ${((Date.now() - created) / 1000).toFixed(1)} s`,
    );

    // Garbage collection: deleting the Deployment removes its ReplicaSet and pod.
    await kubectlOk(host, ["delete", "deployment", "sleeper", "-n", ns, "--wait=true"]);
    await waitFor(async () => {
      const left = JSON.parse(
        await kubectlOk(host, ["get", "replicasets,pods", "-n", ns, "-o", "json"]),
      );
      return left.items.length === 0;
    }, { timeoutMs: 60_000, description: `the ReplicaSet and pod of "${ns}" to be collected` });
    // Namespace deletion finishes (the namespace controller runs).
    await kubectlOk(host, ["delete", "namespace", ns, "--timeout=60s"]);
  },
  withNodes,
);

e2eTest(
  "a pod of the mca image runs `mca version` as uid 65532 with a read-only root filesystem",
  async (env) => {
    const host = env.cluster("host");
    const ns = await newNamespace(env, "host", "mca-image");
    const locked = {
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
    };
    await apply(
      host,
      oneShotPod(ns, "mca", [
        { name: "version", image: images(env).mca.ref, args: ["version"], securityContext: locked },
        {
          name: "identity",
          image: images(env).mca.ref,
          command: ["/usr/local/bin/deno", "eval"],
          args: [
            "console.log(`uid=${Deno.uid()} gid=${Deno.gid()}`);" +
            "try { Deno.writeTextFileSync('/usr/local/bin/x', 'x'); console.log('root writable') }" +
            "catch (e) { console.log(`root not writable: ${e.code}`) }",
          ],
          securityContext: locked,
        },
      ]),
    );
    await waitForPhase(host, ns, "mca", "Succeeded", 90_000);
    const version = await podLogs(host, ns, "mca", "version");
    assertStringIncludes(version, "mca v0.1.0");
    assertStringIncludes(version, "deno 2.");
    const identity = await podLogs(host, ns, "mca", "identity");
    assertStringIncludes(identity, "uid=65532 gid=65532");
    assertStringIncludes(identity, "root not writable: EROFS");
  },
  withNodes,
);

e2eTest(
  "unmodified clients in pods reach their own API server through the kubernetes Service",
  async (env) => {
    const host = env.cluster("host");
    const ns = await newNamespace(env, "host", "clients");
    // "edit" is an aggregated ClusterRole: its rules come from the aggregation controller.
    await kubectlOk(host, [
      "create",
      "rolebinding",
      "default-edit",
      "-n",
      ns,
      "--clusterrole=edit",
      `--serviceaccount=${ns}:default`,
    ]);
    await apply(
      host,
      oneShotPod(ns, "kubectl", [{
        name: "kubectl",
        image: images(env).kubectl.ref,
        args: ["auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"],
      }]),
      oneShotPod(ns, "sample-app", [{ name: "app", image: images(env).sampleApp.ref }]),
    );
    await waitForPhase(host, ns, "kubectl", "Succeeded", 90_000);
    assertEquals(await podLogs(host, ns, "kubectl"), `system:serviceaccount:${ns}:default`);
    await waitForPhase(host, ns, "sample-app", "Succeeded", 90_000);
    const app = await podLogs(host, ns, "sample-app");
    assertStringIncludes(app, `namespace "${ns}"`);
    assertStringIncludes(app, "read order-1001 by name: quantity 3");
    // client-go with the in-cluster config (an empty kubeconfig path) lists what the app made.
    await apply(
      host,
      oneShotPod(ns, "clientgo", [{
        name: "clientgo",
        image: images(env).clientGo.ref,
        args: ["", "list", ns],
      }]),
    );
    await waitForPhase(host, ns, "clientgo", "Succeeded", 90_000);
    const listed = (await podLogs(host, ns, "clientgo")).trim().split("\n");
    for (const name of ["order-1001", "order-1002", "order-1003", "kube-root-ca.crt"]) {
      assert(listed.includes(name), `client-go listed ${name}: ${listed.join(", ")}`);
    }
  },
  withNodes,
);

e2eTest(
  "a pod on east reaches a Service of a pod on host by ClusterIP and NodePort; names resolve in-cluster",
  async (env) => {
    const host = env.cluster("host");
    const east = env.cluster("east");
    const ns = await newNamespace(env, "host", "hub-like");
    const eastNs = await newNamespace(env, "east", "agent-like");
    await apply(host, {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "server", namespace: ns, labels: { app: "server" } },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [{
          name: "server",
          image: images(env).deno.ref,
          imagePullPolicy: "Never",
          args: [
            "eval",
            "Deno.serve({ port: 8080 }, () => new Response(`hello from ${Deno.hostname()}`))",
          ],
          ports: [{ containerPort: 8080 }],
          readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 },
        }],
      },
    }, {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "server", namespace: ns },
      spec: {
        type: "NodePort",
        selector: { app: "server" },
        ports: [{ port: 80, targetPort: 8080 }],
      },
    });
    await waitFor(
      async () => (await getPod(host, ns, "server")).status.containerStatuses?.[0]?.ready,
      {
        timeoutMs: 90_000,
        description: "the server pod to be ready",
      },
    );
    const service = JSON.parse(
      await kubectlOk(host, ["get", "service", "server", "-n", ns, "-o", "json"]),
    );
    const clusterIp = service.spec.clusterIP as string;
    const nodePort = service.spec.ports[0].nodePort as number;
    const fetchAll = (urls: string[]) =>
      `for (const url of ${JSON.stringify(urls)}) {` +
      "  const r = await fetch(url, { signal: AbortSignal.timeout(10000) });" +
      "  console.log(`${url} ${r.status} ${await r.text()}`);" +
      "}";
    // Inside host: the Service by DNS name (CoreDNS) and by ClusterIP (kube-proxy).
    await apply(
      host,
      oneShotPod(ns, "local-client", [{
        name: "client",
        image: images(env).deno.ref,
        args: [
          "eval",
          fetchAll([`http://server.${ns}.svc.cluster.local/`, `http://${clusterIp}/`]),
        ],
      }]),
    );
    // From east: host's ClusterIP (routed to host's node) and NodePort on host's node address.
    const hostNodeIp = host.node!.network.nodeIp;
    await apply(
      east,
      oneShotPod(eastNs, "remote-client", [{
        name: "client",
        image: images(env).deno.ref,
        args: ["eval", fetchAll([`http://${clusterIp}/`, `http://${hostNodeIp}:${nodePort}/`])],
      }]),
    );
    await waitForPhase(host, ns, "local-client", "Succeeded", 90_000);
    await waitForPhase(east, eastNs, "remote-client", "Succeeded", 90_000);
    const local = await podLogs(host, ns, "local-client");
    assertStringIncludes(local, `http://server.${ns}.svc.cluster.local/ 200 hello from server`);
    assertStringIncludes(local, `http://${clusterIp}/ 200 hello from server`);
    const remote = await podLogs(east, eastNs, "remote-client");
    assertStringIncludes(remote, `http://${clusterIp}/ 200 hello from server`);
    assertStringIncludes(remote, `http://${hostNodeIp}:${nodePort}/ 200 hello from server`);
  },
  withNodes,
);

e2eTest(
  "a pod cannot reach an address outside the test environment, nor resolve outside names",
  async (env) => {
    const host = env.cluster("host");
    const ns = await newNamespace(env, "host", "egress");
    const dropped = async () => {
      const chain = `MCA-TESTENV-${env.slot}-FWD`;
      const listed = new TextDecoder().decode(
        (await new Deno.Command("iptables", {
          args: ["-w", "-L", chain, "-v", "-x", "-n"],
          stdout: "piped",
        }).output()).stdout,
      );
      const drop = listed.split("\n").find((line) => /\sDROP\s/.test(line));
      return Number(drop?.trim().split(/\s+/)[0] ?? NaN);
    };
    const before = await dropped();
    // 192.0.2.1 is TEST-NET-1 (RFC 5737): nothing useful answers there anywhere, and the
    // positive control (the kubernetes Service) shows the pod's network itself works.
    const probe = `
      const attempt = async (host, port) => {
        try {
          const conn = await Promise.race([
            Deno.connect({ hostname: host, port }),
            new Promise((_, reject) => setTimeout(() => reject(new Error("timed out")), 3000)),
          ]);
          conn.close();
          return "connected";
        } catch (e) { return e.message.includes("timed out") ? "timed out" : "refused: " + e.message; }
      };
      console.log("outside " + await attempt("192.0.2.1", 9));
      console.log("kubernetes " + await attempt(Deno.env.get("KUBERNETES_SERVICE_HOST"), 443));
      try { await Deno.resolveDns("example.com", "A"); console.log("resolved example.com"); }
      catch (e) { console.log("example.com not resolved: " + e.name); }
      Deno.exit(0);`;
    await apply(
      host,
      oneShotPod(ns, "egress", [{
        name: "probe",
        image: images(env).deno.ref,
        args: ["eval", probe],
      }]),
    );
    await waitForPhase(host, ns, "egress", "Succeeded", 90_000);
    const logs = await podLogs(host, ns, "egress");
    assertStringIncludes(logs, "outside timed out");
    assertStringIncludes(logs, "kubernetes connected");
    assertStringIncludes(logs, "example.com not resolved");
    assert((await dropped()) > before, "the slot's FORWARD chain dropped the packets");
  },
  withNodes,
);

e2eTest("kubectl exec and kubectl logs reach a container on the node", async (env) => {
  const west = env.cluster("west");
  const ns = await newNamespace(env, "west", "exec");
  await apply(west, {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "talker", namespace: ns },
    spec: {
      terminationGracePeriodSeconds: 1,
      containers: [{
        name: "talker",
        image: images(env).deno.ref,
        imagePullPolicy: "Never",
        args: ["eval", "console.log('hello from the container'); setInterval(() => {}, 1 << 30)"],
      }],
    },
  });
  await waitForPhase(west, ns, "talker", "Running", 90_000);
  await waitFor(
    async () => (await podLogs(west, ns, "talker")).includes("hello from the container"),
    {
      description: "the container's first log line",
    },
  );
  const exec = await kubectlOk(west, [
    "exec",
    "talker",
    "-n",
    ns,
    "--",
    "/usr/local/bin/deno",
    "eval",
    "console.log(`${Deno.hostname()} uid=${Deno.uid()}`)",
  ]);
  assertEquals(exec.trim(), "talker uid=65532");
}, withNodes);
