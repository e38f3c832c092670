/**
 * Real pods on a real node (src/testenv with nodes; root): the time from a pod's creation to
 * its app container's start, without a sidecar, with a native sidecar that is ready at once
 * (the platform's floor), and with mca's sidecar (its postStart hook, and the startup probe it
 * used before), side by side in one run; where an injected pod's time goes; and the sidecar
 * container's memory from its cgroup, idle and under a LIST-heavy and a watch-heavy app.
 */
import { HEALTH_PORT, injectPodTemplate, type PodTemplate } from "../src/inject/mod.ts";
import { startTestEnv, type TestCluster, type TestEnv } from "../src/testenv/mod.ts";
import { waitFor } from "../src/common/mod.ts";
import { cgroupMemory, containerPid } from "../tests/_utils/node_containers.ts";
import { podTimeline } from "./_pod_timeline.ts";
import { type BenchResult, median, type Row } from "./_report.ts";

const RUNS = Number(Deno.env.get("MCA_BENCH_RUNS") ?? 7);
const LOAD_SECONDS = Number(Deno.env.get("MCA_BENCH_SECONDS") ?? 20);
const NAMESPACE = "bench";
const PROGRAMS = new URL("../tests/pods/_programs/", import.meta.url).pathname;

type Variant =
  | "no sidecar"
  | "floor: native sidecar, ready at once"
  | "mca, startup probe (before)"
  | "mca, postStart hook (now)";
const VARIANTS: Variant[] = [
  "no sidecar",
  "floor: native sidecar, ready at once",
  "mca, startup probe (before)",
  "mca, postStart hook (now)",
];

/** Runs the pods benchmark and returns its tables. */
export async function podsBench(): Promise<BenchResult[]> {
  const started = Date.now();
  const env = await startTestEnv({
    nodes: true,
    clusters: ["host"],
    onProgress: (message) =>
      console.error(`[pods ${((Date.now() - started) / 1000).toFixed(0)} s] ${message}`),
  });
  try {
    const host = env.cluster("host");
    await prepareNamespace(host);
    return [...await startTimes(env, host), await sidecarMemory(env, host)];
  } finally {
    await env.stop();
  }
}

async function prepareNamespace(host: TestCluster): Promise<void> {
  const { client } = host;
  await client.create("/api/v1/namespaces", { metadata: { name: NAMESPACE } });
  await client.create(`/apis/rbac.authorization.k8s.io/v1/namespaces/${NAMESPACE}/rolebindings`, {
    metadata: { name: "default-edit" },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "edit" },
    subjects: [{ kind: "ServiceAccount", name: "default", namespace: NAMESPACE }],
  });
  const data: Record<string, string> = {};
  for await (const entry of Deno.readDir(PROGRAMS)) {
    data[entry.name] = await Deno.readTextFile(`${PROGRAMS}${entry.name}`);
  }
  await client.create(`/api/v1/namespaces/${NAMESPACE}/configmaps`, {
    metadata: { name: "programs" },
    data,
  });
  await waitFor(() => client.get(`/api/v1/namespaces/${NAMESPACE}/serviceaccounts/default`), {
    timeoutMs: 60_000,
    description: "the bench namespace's default ServiceAccount",
  });
}

/** A pod of the variant whose app container prints a line at once and exits. */
function startPod(env: TestEnv, variant: Variant, name: string): PodTemplate {
  const images = env.images!;
  const plain: PodTemplate = {
    metadata: { name, namespace: NAMESPACE },
    spec: {
      restartPolicy: "Never",
      terminationGracePeriodSeconds: 1,
      containers: [{
        name: "app",
        image: images.kubectl.ref,
        imagePullPolicy: "Never",
        args: ["version", "--client"],
      }],
    },
  };
  if (variant === "no sidecar") return plain;
  if (variant === "floor: native sidecar, ready at once") {
    plain.spec.initContainers = [{
      name: "sidecar",
      image: images.pause.ref,
      imagePullPolicy: "Never",
      restartPolicy: "Always",
    }];
    return plain;
  }
  const result = injectPodTemplate(plain, { image: images.mca.ref, imagePullPolicy: "Never" });
  if (!result.injected) throw new Error(`not injected: ${result.message}`);
  const template = result.template;
  if (variant === "mca, startup probe (before)") {
    // The injection until this change: a startup probe instead of the postStart hook.
    const sidecar = template.spec.initContainers![0]!;
    delete sidecar.lifecycle;
    sidecar.startupProbe = {
      httpGet: { path: "/readyz", port: HEALTH_PORT, scheme: "HTTP" },
      periodSeconds: 1,
      timeoutSeconds: 1,
      failureThreshold: 120,
    };
  }
  return template;
}

interface StartSample {
  variant: Variant;
  /** ms after the create request was sent. */
  appStarted: number;
  sandboxReady?: number;
  sidecarStarted?: number;
  proxyListening?: number;
  appRequested?: number;
}

/** One pod: created, run to completion, its timeline read, deleted. */
async function measureStart(
  env: TestEnv,
  host: TestCluster,
  variant: Variant,
  name: string,
): Promise<StartSample> {
  const pods = `/api/v1/namespaces/${NAMESPACE}/pods`;
  const body = { apiVersion: "v1", kind: "Pod", ...startPod(env, variant, name) };
  const t0 = Date.now();
  const created = await host.client.create<{ metadata: { uid: string } }>(pods, body);
  await waitFor(async () => {
    const pod = await host.client.get<{ status: { phase?: string } }>(`${pods}/${name}`);
    if (pod.status.phase === "Failed") throw new Error(`pod ${name} failed`);
    return pod.status.phase === "Succeeded";
  }, { timeoutMs: 120_000, intervalMs: 100, description: `pod ${name} to run` });
  const timeline = podTimeline(
    await Deno.readTextFile(host.node!.logs.containerd!),
    created.metadata.uid,
  );
  const sidecar = timeline.containers["mca-proxy"] ?? timeline.containers["sidecar"];
  const at = (ms: number | undefined) => ms === undefined ? undefined : ms - t0;
  let proxyListening: number | undefined;
  if (timeline.containers["mca-proxy"]) {
    const log = await (await host.client.request(`${pods}/${name}/log?container=mca-proxy`)).text();
    const line = log.split("\n").find((l) => l.includes('"proxy listening"'));
    if (line) proxyListening = Date.parse(JSON.parse(line).time) - t0;
  }
  const appStarted = at(timeline.containers.app?.started);
  if (appStarted === undefined) throw new Error(`no start of ${name}'s app in the containerd log`);
  await host.client.delete(`${pods}/${name}`).catch(() => {});
  return {
    variant,
    appStarted,
    ...(timeline.sandboxReady ? { sandboxReady: at(timeline.sandboxReady)! } : {}),
    ...(sidecar?.started ? { sidecarStarted: at(sidecar.started)! } : {}),
    ...(proxyListening !== undefined ? { proxyListening } : {}),
    ...(timeline.containers.app?.createRequested
      ? { appRequested: at(timeline.containers.app.createRequested)! }
      : {}),
  };
}

async function startTimes(env: TestEnv, host: TestCluster): Promise<BenchResult[]> {
  const samples: StartSample[] = [];
  // One warm-up round: the first pod of each image unpacks it.
  for (const [i, variant] of VARIANTS.entries()) {
    await measureStart(env, host, variant, `warm-${i}`);
  }
  for (let run = 0; run < RUNS; run++) {
    // Each round in another order, so that no variant always follows the same one.
    const order = VARIANTS.map((_, i) => VARIANTS[(i + run) % VARIANTS.length]!);
    for (const [i, variant] of order.entries()) {
      samples.push(await measureStart(env, host, variant, `start-${run}-${i}`));
    }
  }
  const of = (variant: Variant) => samples.filter((s) => s.variant === variant);
  const base = median(of("no sidecar").map((s) => s.appStarted));
  const rows: Row[] = VARIANTS.map((variant) => {
    const times = of(variant).map((s) => s.appStarted);
    return {
      name: variant,
      values: {
        "p50 ms": median(times),
        "min ms": Math.min(...times),
        "max ms": Math.max(...times),
        "added p50 ms": median(times) - base,
      },
    };
  });
  const steps: Array<[string, keyof StartSample]> = [
    ["sandbox ready", "sandboxReady"],
    ["sidecar started", "sidecarStarted"],
    ["proxy listening", "proxyListening"],
    ["app requested", "appRequested"],
    ["app started", "appStarted"],
  ];
  const breakdown: Row[] = VARIANTS.map((variant) => ({
    name: variant,
    values: Object.fromEntries(steps.map(([label, key]) => {
      const values = of(variant).map((s) => s[key]).filter((v): v is number =>
        typeof v === "number"
      );
      return [label, values.length > 0 ? median(values) : NaN];
    })),
  }));
  return [
    { title: `creation to the app container's start, ${RUNS} pods each`, rows, ratios: false },
    {
      title: "where the time goes, ms after creation (p50; containerd's log)",
      rows: breakdown,
      ratios: false,
    },
  ];
}

/** The sidecar's cgroup memory: idle, and while its app runs a LIST-heavy or a watch-heavy load. */
async function sidecarMemory(env: TestEnv, host: TestCluster): Promise<BenchResult> {
  // 1,000 ConfigMaps of 1 KiB for the app to list and watch.
  const configMaps = `/api/v1/namespaces/${NAMESPACE}/configmaps`;
  for (let i = 0; i < 1000; i++) {
    await host.client.create(configMaps, {
      metadata: { name: `item-${i}` },
      data: { value: "x".repeat(1024) },
    });
  }
  const loads: Array<[string, Record<string, string>]> = [
    ["idle", {}],
    ["LIST-heavy app: 8 loops of 1,000-item LISTs", { LOAD_MODE: "list", LOAD_CONCURRENCY: "8" }],
    ["watch-heavy app: 100 watches, 50 updates/s", { LOAD_MODE: "watch", LOAD_CONCURRENCY: "100" }],
  ];
  const rows: Row[] = [];
  for (const [label, loadEnv] of loads) {
    const name = `memory-${rows.length}`;
    const program = label === "idle" ? "idle.ts" : "api_load.ts";
    const injected = injectPodTemplate({
      metadata: { name, namespace: NAMESPACE },
      spec: {
        terminationGracePeriodSeconds: 1,
        volumes: [{ name: "programs", configMap: { name: "programs" } }],
        containers: [{
          name: "app",
          image: env.images!.deno.ref,
          imagePullPolicy: "Never",
          args: ["run", "--allow-all", "--quiet", `/programs/${program}`],
          env: [
            { name: "DENO_DIR", value: "/tmp/deno" },
            { name: "LOAD_SECONDS", value: String(LOAD_SECONDS) },
            ...Object.entries(loadEnv).map(([key, value]) => ({ name: key, value })),
          ],
          volumeMounts: [{ name: "programs", mountPath: "/programs" }],
        }],
      },
    }, { image: env.images!.mca.ref, imagePullPolicy: "Never" });
    if (!injected.injected) throw new Error(injected.message);
    const pods = `/api/v1/namespaces/${NAMESPACE}/pods`;
    await host.client.create(pods, { apiVersion: "v1", kind: "Pod", ...injected.template });
    const id = await waitFor(async () => {
      const pod = await host.client.get<
        { status: { phase?: string; initContainerStatuses?: Array<{ containerID?: string }> } }
      >(`${pods}/${name}`);
      return pod.status.phase === "Running" && pod.status.initContainerStatuses?.[0]?.containerID;
    }, { timeoutMs: 120_000, description: `pod ${name} to run` });
    const pid = await containerPid(host, id.replace("containerd://", ""));
    const samples: Array<{ workingSetMiB: number; rssMiB: number }> = [];
    const until = Date.now() + (label === "idle" ? 5_000 : LOAD_SECONDS * 1000);
    let updates = 0;
    while (Date.now() < until) {
      samples.push(await cgroupMemory(pid));
      if (label.startsWith("watch")) {
        // 50 updates per second while the watches run.
        await Promise.all(
          Array.from(
            { length: 10 },
            () =>
              host.client.patch(`${configMaps}/item-${updates++ % 1000}`, {
                data: { value: String(updates) },
              }, "merge"),
          ),
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const last = samples.at(-1)!;
    rows.push({
      name: label,
      values: {
        "working set MiB (peak)": Math.max(...samples.map((s) => s.workingSetMiB)),
        "working set MiB (end)": last.workingSetMiB,
        "RSS MiB (peak)": Math.max(...samples.map((s) => s.rssMiB)),
      },
    });
    if (label !== "idle") {
      // The app's own count of what it did, printed when its load ends (informative only).
      const summary = await waitFor(async () => {
        const log = await (await host.client.request(`${pods}/${name}/log?container=app`)).text();
        return log.split("\n").find((line) => line.startsWith("{"));
      }, { timeoutMs: 30_000, description: `the summary of ${name}'s load` }).catch((error) =>
        `no summary: ${(error as Error).message}`
      );
      console.error(`[pods] ${label}: ${summary}`);
    }
    await host.client.delete(`${pods}/${name}`).catch(() => {});
  }
  return {
    title: "the sidecar container's memory (its cgroup; limit 256 MiB)",
    rows,
    ratios: false,
  };
}
