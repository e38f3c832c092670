/**
 * mca on the demo's clusters, as an operator installs it: the Helm chart on the host (webhook
 * and hub pods), then `mca agent install` for each member (agent pods that dial the hub).
 */
import { type KubeClient, type ManifestHead, manifestPath } from "../../src/kube/mod.ts";
import {
  buildChartTools,
  HUB_NODE_PORT,
  installMcaChart,
  MCA_NAMESPACE,
  type TestEnv,
} from "../../src/testenv/mod.ts";
import { waitFor } from "../../src/common/mod.ts";
import { runMca } from "./mca_processes.ts";

/** The hub as the chart installed it. */
export interface InstalledHub {
  /** Where agents (and this machine) dial it: a NodePort of host's node. */
  url: string;
  /** Where pods of the host cluster reach it: its Service. */
  serviceUrl: string;
  caPem: string;
}

interface PodLite {
  metadata: { name: string };
  spec: { nodeName?: string };
  status: {
    phase?: string;
    containerStatuses?: { ready: boolean; state?: Record<string, { reason?: string }> }[];
  };
}

/** `helm install` of charts/mca on the host from the local image; waits for its pods. */
export async function installMca(
  env: TestEnv,
  say: (line: string) => void,
): Promise<InstalledHub> {
  const host = env.cluster("host");
  const { helm } = await buildChartTools({ onProgress: say });
  say(`helm install mca charts/mca --namespace ${MCA_NAMESPACE}: image ${env.images!.mca.ref}`);
  say(
    `  (pullPolicy Never); the hub also on NodePort ${HUB_NODE_PORT} of host's node, for the agents`,
  );
  const chart = await installMcaChart(env, { helm, wait: false });
  for (const deployment of ["mca-webhook", "mca-hub"]) {
    await waitForDeployment(host.client, MCA_NAMESPACE, deployment, say);
  }
  for (const pod of await listPods(host.client, MCA_NAMESPACE)) say(describePod(pod));
  await waitFor(() => apiServiceAvailable(host.client), {
    timeoutMs: 120_000,
    description: `the APIService ${API_SERVICE} to be Available`,
  });
  say(`APIService ${API_SERVICE} Available: members are reachable through host's API server too`);
  const secret = await host.client.get<{ data: Record<string, string> }>(
    `/api/v1/namespaces/${MCA_NAMESPACE}/secrets/mca-hub-ca`,
  );
  say(`The hub: ${chart.hubUrl} for agents, ${chart.hubServiceUrl} inside the host`);
  return {
    url: chart.hubUrl,
    serviceUrl: chart.hubServiceUrl,
    caPem: atob(secret.data["ca.crt"]!),
  };
}

/**
 * `mca agent install` for each member, side by side (each line prefixed with the member): it
 * registers the member with the hub, applies the agent to the member and waits until the hub
 * reports it connected.
 */
export async function connectMembers(
  env: TestEnv,
  hub: InstalledHub,
  members: string[],
  say: (line: string) => void,
): Promise<void> {
  for (const name of members) {
    say(`mca agent install --hub ${hub.url} --cluster ${name} --member-context ${name} ...`);
  }
  await Promise.all(members.map((name) =>
    runMca([
      "agent",
      "install",
      `--hub=${hub.url}`,
      `--cluster=${name}`,
      `--kubeconfig=${env.kubeconfigPath}`,
      "--context=host",
      `--member-context=${name}`,
      `--image=${env.images!.mca.ref}`,
      "--replicas=1",
      "--wait=3m",
    ], (line) => say(`  ${name.padEnd(4)} │ ${line}`))
  ));
  // The demo's hub-<member> contexts explore the members as the host's admin (system:masters):
  // an explicit opt-in on each Cluster, since privileged host groups are dropped by default.
  for (const name of members) {
    await env.cluster("host").client.patch(
      `/apis/mca.k8s.io/v1alpha1/clusters/${name}`,
      { spec: { identityMapping: { allowPrivileged: true } } },
      "merge",
    );
  }
  say(
    `Clusters ${
      members.join(", ")
    }: spec.identityMapping.allowPrivileged: true (host admin → admin)`,
  );
  // The hub may see an agent before its kubelet reports the pod ready: wait for both.
  for (const name of members) {
    const member = env.cluster(name).client;
    await waitForDeployment(member, "mca-agent", "mca-agent", (line) => say(`${name}: ${line}`));
    for (const pod of await listPods(member, "mca-agent")) say(`${name}: ${describePod(pod)}`);
  }
}

/** Creates or updates the object (server-side apply). */
export async function applyObject(client: KubeClient, manifest: unknown): Promise<void> {
  await client.patch(
    manifestPath(manifest as ManifestHead),
    manifest,
    "apply",
    { fieldManager: "mca-demo", force: true },
  );
}

/** Waits until every replica of a Deployment is ready, saying so with the time it took. */
async function waitForDeployment(
  client: KubeClient,
  namespace: string,
  name: string,
  say: (line: string) => void,
): Promise<void> {
  const started = Date.now();
  const path = `/apis/apps/v1/namespaces/${namespace}/deployments/${name}`;
  try {
    const ready = await waitFor(async () => {
      const deployment = await client.get<
        { spec: { replicas?: number }; status?: { readyReplicas?: number } }
      >(path);
      const wanted = deployment.spec.replicas ?? 1;
      return (deployment.status?.readyReplicas ?? 0) === wanted ? wanted : undefined;
    }, { timeoutMs: 180_000, intervalMs: 500, description: `Deployment "${name}" to be ready` });
    say(`${name}: ${ready}/${ready} pods ready (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  } catch (error) {
    const pods = (await listPods(client, namespace)).map(describePod).join("\n  ");
    throw new Error(`${(error as Error).message}\n  ${pods}`);
  }
}

async function listPods(client: KubeClient, namespace: string): Promise<PodLite[]> {
  return (await client.list<PodLite>(`/api/v1/namespaces/${namespace}/pods`)).items;
}

/** "pod mca-hub-… Running, ready, on node mca-…-host" (or why it is not). */
export function describePod(pod: PodLite): string {
  const statuses = pod.status.containerStatuses ?? [];
  const waiting = statuses.map((s) => s.state?.waiting?.reason).filter(Boolean);
  const ready = statuses.length > 0 && statuses.every((s) => s.ready) ? ", ready" : "";
  return `pod ${pod.metadata.name} ${pod.status.phase ?? "Pending"}${ready}` +
    (waiting.length ? ` (${waiting.join(", ")})` : "") +
    (pod.spec.nodeName ? `, on node ${pod.spec.nodeName}` : "");
}

const API_SERVICE = "v1alpha1.proxy.mca.k8s.io";

/** Whether host's API server reaches the hub for the aggregated entrance. */
async function apiServiceAvailable(client: KubeClient): Promise<boolean> {
  const service = await client.get<
    { status?: { conditions?: { type: string; status: string }[] } }
  >(
    `/apis/apiregistration.k8s.io/v1/apiservices/${API_SERVICE}`,
  );
  return service.status?.conditions?.some((c) => c.type === "Available" && c.status === "True") ??
    false;
}
