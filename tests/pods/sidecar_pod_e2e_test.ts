/**
 * The injected sidecar in real pods, injected by the webhook that charts/mca installs and run
 * by a real kubelet: start-up ordering, apps of any user, the read-only root, a killed and a
 * stopped sidecar, pod deletion with a watch in flight, and the projected token's rotation.
 */
import { assert, assertEquals, assertStringIncludes } from "../_utils/assert.ts";
import { e2eTest, kubectl, kubectlOk, uniqueName } from "../_utils/e2e.ts";
import { injectedNamespace, installMcaChart } from "../_utils/mca_chart.ts";
import {
  containerId,
  containerPid,
  readContainerFile,
  rootMountOptions,
  signalContainer,
} from "../_utils/node_containers.ts";
import { apply, getPod, podLogs, type PodObject, waitForPhase } from "../_utils/pods.ts";
import type { TestCluster, TestEnv } from "../../src/testenv/mod.ts";
import { waitFor } from "../../src/common/mod.ts";
import {
  createProgramsConfigMap,
  followLog,
  programContainer,
  PROGRAMS_VOLUME,
} from "./_pod_programs.ts";
import { jwtClaims, POD_TOKEN, startRotationPod, whoamiThroughSidecar } from "./_token_rotation.ts";

/** The sidecar's container name and where it keeps its state. */
const SIDECAR = "mca-proxy";
const STATE_FILE = "/var/run/mca/state/identity.json";
const APP_CREDENTIALS = "/var/run/secrets/kubernetes.io/serviceaccount";
/** How long after its expiry kube-apiserver still accepts a service-account token. */
const EXPIRY_LEEWAY_MS = 60_000;

/** A namespace the webhook injects, with the test programs; starts the rotation pod early. */
async function setUp(env: TestEnv, prefix: string): Promise<{ host: TestCluster; ns: string }> {
  // Token rotation needs real time (the kubelet's shortest token lifetime is 600 s): its pod
  // starts with whichever test of this file runs first, so that the wait overlaps the others.
  startRotationPod(env).catch(() => {});
  await installMcaChart(env);
  const host = env.cluster("host");
  const ns = await injectedNamespace(host, uniqueName(prefix));
  await createProgramsConfigMap(host, ns);
  return { host, ns };
}

function pod(ns: string, name: string, spec: Record<string, unknown>): Record<string, unknown> {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: ns },
    spec: { terminationGracePeriodSeconds: 5, volumes: [PROGRAMS_VOLUME], ...spec },
  };
}

function status(pod: PodObject, name: string) {
  const found = [...pod.status.initContainerStatuses ?? [], ...pod.status.containerStatuses ?? []]
    .find((container) => container.name === name);
  assert(found, `pod "${pod.metadata.name}" has a status for "${name}"`);
  return found;
}

/** The time (ms) of the sidecar's "proxy listening" line, from its JSON log. */
function listeningAt(log: string): number {
  const line = log.split("\n").find((l) => l.includes('"proxy listening"'));
  assert(line, `the sidecar logged "proxy listening":\n${log}`);
  return Date.parse(JSON.parse(line).time);
}

e2eTest(
  "an injected app container starts only once its sidecar listens and has written the app's credentials",
  async (env) => {
    const { host, ns } = await setUp(env, "startup");
    const slowed = pod(ns, "app", {
      restartPolicy: "Never",
      containers: [programContainer(env.images!.deno.ref, "app", "startup_check.ts")],
    });
    // A sidecar held to a tenth of a core needs seconds to listen: an app not held back until
    // then would start first (it did, in a pod whose sidecar had neither hook nor probe) and
    // find no credentials.
    (slowed.metadata as Record<string, unknown>).annotations = {
      "mca.k8s.io/proxy-cpu-limit": "100m",
    };
    await apply(host, slowed);
    const done = await waitForPhase(host, ns, "app", "Succeeded", 120_000);
    const report = JSON.parse(await podLogs(host, ns, "app", "app"));
    // The app looked at once, without retrying: everything was there when it started.
    assertEquals(report.files, { token: true, "ca.crt": true, namespace: true });
    assertEquals(report.firstRequest, 200, "the first request through the sidecar succeeded");
    const proxyLog = await podLogs(host, ns, "app", SIDECAR);
    assert(
      listeningAt(proxyLog) <= report.startedAtMs,
      `the proxy listened (${new Date(listeningAt(proxyLog)).toISOString()}) before the app ran ` +
        `(${new Date(report.startedAtMs).toISOString()})`,
    );
    // The kubelet's own record (whole seconds): the sidecar started first and was "started".
    const sidecar = status(done, SIDECAR);
    const app = status(done, "app");
    const sidecarStart = Date.parse(
      sidecar.state?.running?.startedAt ?? sidecar.state?.terminated?.startedAt ?? "",
    );
    const appStart = Date.parse(app.state?.terminated?.startedAt ?? "");
    assert(sidecarStart <= appStart, `sidecar started ${sidecarStart}, app ${appStart}`);
    assertEquals(app.state?.terminated?.exitCode, 0);
  },
  { nodes: true },
);

e2eTest(
  "app containers of any user (1000, 65532, root; init and regular; shared process namespace) use the sidecar's token and CA and can read no private key",
  async (env) => {
    const { host, ns } = await setUp(env, "users");
    const images = env.images!;
    const users: Array<[string, number]> = [["1000", 1000], ["65532", 65532], ["root", 0]];
    const asUser = (uid: number) => ({
      securityContext: { runAsUser: uid, runAsGroup: uid, runAsNonRoot: uid !== 0 },
    });
    const kubectlAs = (name: string, uid: number) => ({
      name,
      image: images.kubectl.ref,
      imagePullPolicy: "Never",
      args: ["auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"],
      env: [{ name: "HOME", value: "/tmp" }],
      ...asUser(uid),
    });
    await apply(
      host,
      pod(ns, "users", {
        restartPolicy: "Never",
        initContainers: [
          programContainer(images.deno.ref, "init-search", "secret_search.ts", asUser(1000)),
        ],
        containers: users.flatMap(([label, uid]) => [
          programContainer(images.deno.ref, `search-${label}`, "secret_search.ts", asUser(uid)),
          kubectlAs(`kubectl-${label}`, uid),
        ]),
      }),
      // With a shared process namespace, /proc/<pid>/root of the sidecar is a way in too.
      pod(ns, "shared-pid", {
        restartPolicy: "Never",
        shareProcessNamespace: true,
        containers: users.map(([label, uid]) =>
          programContainer(images.deno.ref, `search-${label}`, "secret_search.ts", asUser(uid))
        ),
      }),
    );
    // While the shared-pid pod's searches run, its sidecar's state holds the key they look for.
    const running = await waitFor(async () => {
      const current = await getPod(host, ns, "shared-pid");
      return current.status.initContainerStatuses?.[0]?.started ? current : false;
    }, { timeoutMs: 60_000, description: "the shared-pid pod's sidecar to start" });
    const sidecarPid = await containerPid(host, containerId(running, SIDECAR));
    assertStringIncludes(await readContainerFile(sidecarPid, STATE_FILE), "PRIVATE KEY");

    for (const name of ["users", "shared-pid"]) {
      await waitForPhase(host, ns, name, "Succeeded", 120_000);
    }
    const searches = [
      ["users", "init-search"],
      ...users.map(([label]) => ["users", `search-${label}`]),
      ...users.map(([label]) => ["shared-pid", `search-${label}`]),
    ];
    for (const [podName, container] of searches) {
      const report = JSON.parse(await podLogs(host, ns, podName!, container));
      const where = `${podName}/${container} (uid ${report.uid})`;
      assertEquals(report.found, [], `${where} found no file holding a private key`);
      assert(report.read > 0, `${where} read the files it could`);
      assertEquals(report.tokenLength, 64, `${where} read the sidecar's per-pod token`);
      assertEquals(report.status, 200, `${where} reached the API through the sidecar`);
    }
    for (const [label] of users) {
      assertEquals(
        await podLogs(host, ns, "users", `kubectl-${label}`),
        `system:serviceaccount:${ns}:default`,
        `kubectl as ${label} is the pod's service account through the sidecar`,
      );
    }
  },
  { nodes: true },
);

e2eTest(
  "the sidecar runs on a read-only root file system, as injected",
  async (env) => {
    const { host, ns } = await setUp(env, "readonly");
    await apply(
      host,
      pod(ns, "app", {
        containers: [programContainer(env.images!.deno.ref, "app", "watcher.ts")],
      }),
    );
    const running = await waitForPhase(host, ns, "app", "Running", 120_000);
    const spec = JSON.parse(
      await kubectlOk(host, ["get", "pod", "app", "-n", ns, "-o", "json"]),
    ).spec.initContainers.find((c: { name: string }) => c.name === SIDECAR);
    assertEquals(spec.securityContext.readOnlyRootFilesystem, true);
    const pid = await containerPid(host, containerId(running, SIDECAR));
    assert((await rootMountOptions(pid)).includes("ro"), "the sidecar's / is mounted read-only");
    await using log = await followLog(host, ns, "app", "app");
    await log.waitFor(/watch 1: 200/);
    const marker = uniqueName("readonly");
    await kubectlOk(host, ["create", "configmap", marker, "-n", ns]);
    await log.waitFor(new RegExp(`event ADDED ${marker}`));
    assertEquals(status(await getPod(host, ns, "app"), SIDECAR).restartCount, 0);
  },
  { nodes: true },
);

e2eTest(
  "a killed sidecar is restarted by the kubelet with the same token and CA, and the running app keeps working",
  async (env) => {
    const { host, ns } = await setUp(env, "killed");
    await apply(
      host,
      pod(ns, "app", {
        containers: [programContainer(env.images!.deno.ref, "app", "watcher.ts")],
      }),
    );
    const running = await waitForPhase(host, ns, "app", "Running", 120_000);
    await using log = await followLog(host, ns, "app", "app");
    await log.waitFor(/watch 1: 200/);
    const appPid = await containerPid(host, containerId(running, "app"));
    const before = await appCredentials(appPid);

    await signalContainer(host, containerId(running, SIDECAR), "SIGKILL");
    await log.waitFor(/watch 1 failed/);
    const restarted = await waitFor(async () => {
      const current = await getPod(host, ns, "app");
      const sidecar = status(current, SIDECAR);
      return (sidecar.restartCount ?? 0) >= 1 && sidecar.ready ? current : false;
    }, { timeoutMs: 60_000, description: "the sidecar to be restarted and ready" });
    assertEquals(status(restarted, SIDECAR).lastState?.terminated?.exitCode, 137);
    assertStringIncludes(
      await podLogs(host, ns, "app", SIDECAR),
      "kept the token and CA of an earlier run",
    );
    // The app, which loaded its token and CA once at start, works through the new sidecar.
    const marker = uniqueName("after-kill");
    await kubectlOk(host, ["create", "configmap", marker, "-n", ns]);
    await log.waitFor(new RegExp(`event ADDED ${marker}`), 60_000);
    assertEquals(await appCredentials(appPid), before, "the app's files are unchanged");
    assertEquals(status(await getPod(host, ns, "app"), "app").restartCount, 0);
  },
  { nodes: true },
);

e2eTest(
  "a sidecar stopped with SIGTERM ends the app's watch cleanly at once, exits 0, and is restarted",
  async (env) => {
    const { host, ns } = await setUp(env, "stopped");
    await apply(
      host,
      pod(ns, "app", {
        containers: [programContainer(env.images!.deno.ref, "app", "watcher.ts")],
      }),
    );
    const running = await waitForPhase(host, ns, "app", "Running", 120_000);
    await using log = await followLog(host, ns, "app", "app");
    await log.waitFor(/watch 1: 200/);
    const signalled = Date.now();
    await signalContainer(host, containerId(running, SIDECAR), "SIGTERM");
    const ended = await log.waitFor(/watch 1 (ended cleanly|failed: .*)/, 10_000);
    assertEquals(ended[1], "ended cleanly", "the watch ended as a watch ends, not broken off");
    assert(Date.now() - signalled < 5_000, "the watch ended promptly");
    const restarted = await waitFor(async () => {
      const current = await getPod(host, ns, "app");
      const sidecar = status(current, SIDECAR);
      return (sidecar.restartCount ?? 0) >= 1 && sidecar.ready ? current : false;
    }, { timeoutMs: 60_000, description: "the sidecar to be restarted and ready" });
    assertEquals(status(restarted, SIDECAR).lastState?.terminated?.exitCode, 0);
    const previous = await kubectlOk(host, ["logs", "app", "-n", ns, "-c", SIDECAR, "--previous"]);
    assertStringIncludes(previous, '"proxy stopped"');
    const marker = uniqueName("after-stop");
    await kubectlOk(host, ["create", "configmap", marker, "-n", ns]);
    await log.waitFor(new RegExp(`event ADDED ${marker}`), 60_000);
  },
  { nodes: true },
);

e2eTest(
  "pod deletion: the app's watch through the sidecar keeps delivering while the app shuts down, then the sidecar stops at once",
  async (env) => {
    const { host, ns } = await setUp(env, "deleted");
    const grace = 30;
    await apply(
      host,
      pod(ns, "app", {
        terminationGracePeriodSeconds: grace,
        containers: [
          programContainer(env.images!.deno.ref, "app", "watcher.ts", {
            env: [{ name: "STOP_AFTER_EVENT", value: "after-sigterm" }],
          }),
        ],
      }),
    );
    await waitForPhase(host, ns, "app", "Running", 120_000);
    await using app = await followLog(host, ns, "app", "app");
    await using sidecar = await followLog(host, ns, "app", SIDECAR);
    await app.waitFor(/watch 1: 200/);
    const deleted = Date.now();
    await kubectlOk(host, ["delete", "pod", "app", "-n", ns, "--wait=false"]);
    await app.waitFor(/sigterm/);
    // The app got SIGTERM; its sidecar (a native sidecar) stays until the app has exited.
    const marker = uniqueName("after-sigterm");
    await kubectlOk(host, ["create", "configmap", marker, "-n", ns]);
    await app.waitFor(/closed the watch after SIGTERM/);
    assertStringIncludes(app.stdout(), `event ADDED ${marker}`);
    await sidecar.waitFor(/"proxy stopped"/);
    await waitFor(async () => {
      const result = await kubectl(host, ["get", "pod", "app", "-n", ns, "-o", "name"]);
      return result.code !== 0 && result.stderr.includes("NotFound");
    }, { timeoutMs: grace * 1000, intervalMs: 200, description: "the pod to be gone" });
    const seconds = (Date.now() - deleted) / 1000;
    assert(seconds < grace / 2, `the pod was gone after ${seconds} s (grace period ${grace} s)`);
  },
  { nodes: true },
);

e2eTest(
  "token rotation: the sidecar follows the kubelet's new projected token, and the app keeps working after the first one has expired",
  async (env) => {
    const rotation = await startRotationPod(env);
    const { host, namespace, name, firstToken, firstExpiresAt } = rotation;
    const expected = `system:serviceaccount:${namespace}:default`;
    assertEquals(await whoamiThroughSidecar(rotation), expected);
    // The kubelet replaces the token at 80% of its lifetime; the API server accepts the first
    // one until a minute after its expiry (the JWT library's leeway for clock skew). Meanwhile
    // the app keeps using the API through its sidecar.
    await waitFor(async () => {
      assertEquals(await whoamiThroughSidecar(rotation), expected);
      return Date.now() > firstExpiresAt + EXPIRY_LEEWAY_MS + 10_000;
    }, {
      timeoutMs: Math.max(0, firstExpiresAt - Date.now()) + EXPIRY_LEEWAY_MS + 120_000,
      intervalMs: 20_000,
      description: "the first token to expire",
    });
    const running = await getPod(host, namespace, name);
    const sidecarPid = await containerPid(host, containerId(running, SIDECAR));
    const current = (await readContainerFile(sidecarPid, POD_TOKEN)).trim();
    assert(current !== firstToken, "the kubelet wrote a new token");
    assert(jwtClaims(current).exp * 1000 > Date.now(), "the new token is valid");
    const direct = await fetch(`${host.url}/api/v1/namespaces/${namespace}/configmaps`, {
      headers: { authorization: `Bearer ${firstToken}` },
      client: Deno.createHttpClient({ caCerts: [host.caPem] }),
    });
    await direct.body?.cancel();
    assertEquals(direct.status, 401, "the first token is refused now");
    assertEquals(await whoamiThroughSidecar(rotation), expected, "the app works after expiry");
    assertEquals(status(running, SIDECAR).restartCount, 0, "the same sidecar process");
  },
  { nodes: true },
);

/** The token and CA an app container sees (through its root in /proc). */
async function appCredentials(pid: number): Promise<Record<string, string>> {
  return {
    token: await readContainerFile(pid, `${APP_CREDENTIALS}/token`),
    ca: await readContainerFile(pid, `${APP_CREDENTIALS}/ca.crt`),
  };
}
