/**
 * The demo's story on real pods: three clusters with a node each, mca installed as an operator
 * would (the Helm chart on the host, `mca agent install` for each member), and a single-cluster
 * app whose pod the webhook injects and the kubelet runs; then what happened, checked on each
 * cluster directly, and a kubeconfig to look around.
 */
import { startTestEnv, type TestEnv } from "../../src/testenv/mod.ts";
import { APP_POD, containerLog, createAppPod, waitForApp } from "./app_pod.ts";
import { APP_NAMESPACE, EXPECTED_PLACEMENT, MEMBER_APP_USER } from "./demo_objects.ts";
import { type ExploreKubeconfig, writeExploreKubeconfig } from "./explore_kubeconfig.ts";
import { connectMembers, installMca } from "./install_mca.ts";
import { requestsFromSidecarLog } from "./sidecar_story.ts";

const MEMBERS = ["east", "west"];
const STEPS = 6;

/** What is left running when the story is told. */
export interface RunningDemo extends ExploreKubeconfig {
  env: TestEnv;
  stop(): Promise<void>;
}

/** Tells the story on `say`; throws (after cleaning up) if any part does not work. */
export async function runDemo(
  options: { dir: string; say: (line: string) => void },
): Promise<RunningDemo> {
  const { dir, say } = options;
  let step = 0;
  const started = Date.now();
  const heading = (text: string) => say(`\n[${++step}/${STEPS}] ${text}`);
  // Each line says when, in seconds since the start: long steps show their progress.
  const detail = (text: string) => say(`${seconds(started).padStart(5)} ${text}`);

  heading("Three clusters, host, east and west, each with a real node");
  detail("kube-apiserver, etcd, controllers and a node (containerd, kubelet, kube-proxy, CoreDNS)");
  const env = await startTestEnv({
    dir: `${dir}/clusters`,
    nodes: true,
    build: true,
    onProgress: detail,
  });
  const stops: (() => Promise<void>)[] = [() => env.stop()];
  const stop = async () => {
    for (const stopOne of stops.reverse()) await stopOne().catch(() => {});
  };
  try {
    await describeNodes(env, detail);

    heading("Installing mca on the host with Helm: the webhook and the hub, in pods");
    const hub = await installMca(env, detail);

    heading("Connecting east and west: mca agent install (the agents dial out to the hub)");
    await connectMembers(env, hub, MEMBERS, detail);

    heading(`Creating the app's pod "${APP_POD}" in namespace "${APP_NAMESPACE}" on the host`);
    await createAppPod(env, hub, MEMBERS, detail);

    heading("The kubelet runs the pod: the sidecar first, then the app");
    const appLog = await waitForApp(env, detail);
    for (const line of appLog.trimEnd().split("\n")) say(`      ${line}`);

    heading("What happened");
    await tellRequests(env, say);
    await checkPlacement(env, say);
    const explore = await writeExploreKubeconfig(env, hub, dir);
    stops.push(() => explore.portForward.stop());
    return { env, stop, ...explore };
  } catch (error) {
    await stop();
    throw error;
  }
}

function seconds(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(0)}s`;
}

/** What `kubectl get nodes` would show on each cluster. */
async function describeNodes(env: TestEnv, say: (line: string) => void) {
  for (const cluster of env.clusters) {
    const nodes = await cluster.client.list<{
      metadata: { name: string };
      status: {
        conditions?: { type: string; status: string }[];
        nodeInfo: { kubeletVersion: string; containerRuntimeVersion: string };
      };
    }>("/api/v1/nodes");
    for (const node of nodes.items) {
      const ready = node.status.conditions?.find((c) => c.type === "Ready")?.status === "True";
      say(
        `${cluster.name}: node ${node.metadata.name} ${ready ? "Ready" : "NotReady"} ` +
          `(kubelet ${node.status.nodeInfo.kubeletVersion}, ${node.status.nodeInfo.containerRuntimeVersion})`,
      );
    }
  }
}

async function tellRequests(env: TestEnv, say: (line: string) => void) {
  const log = await containerLog(env, "mca-proxy");
  for (const request of requestsFromSidecarLog(log, { viaHub: MEMBERS, user: MEMBER_APP_USER })) {
    say(`  ${request}`);
  }
}

// The proof: each object is where the routes say, asked of each cluster's API server directly.
async function checkPlacement(env: TestEnv, say: (line: string) => void) {
  say("\n  Checked on each cluster's own API server:");
  const found = new Map<string, string[]>();
  for (const cluster of env.clusters) {
    const list = await cluster.client.list<{ metadata: { name: string } }>(
      `/api/v1/namespaces/${APP_NAMESPACE}/configmaps`,
      { labelSelector: "app=inventory" },
    );
    found.set(cluster.name, list.items.map((item) => item.metadata.name));
  }
  for (const expected of EXPECTED_PLACEMENT) {
    const where = [...found].filter(([, names]) => names.includes(expected.name)).map(([c]) => c);
    if (where.length !== 1 || where[0] !== expected.cluster) {
      throw new Error(
        `ConfigMap ${expected.name} should be in ${expected.cluster} only, found in: ${
          where.join(", ") || "no cluster"
        }`,
      );
    }
    say(`  ✓ ${expected.name} is in ${expected.cluster} only (${expected.why})`);
  }
}
