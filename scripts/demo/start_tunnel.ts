/**
 * The demo's tunnel: the hub on the host, and for each member `mca agent install` followed by
 * the agent's pod run locally (the stand-in for the member's controllers and kubelet).
 */
import { parse as parseYaml } from "yaml";
import {
  type KubeClient,
  type ManifestHead,
  manifestPath,
  renderKubeconfig,
} from "../../src/kube/mod.ts";
import { freePort, type TestCluster, type TestEnv, waitFor } from "../../src/testenv/mod.ts";
import { podFromTemplate } from "./demo_objects.ts";
import { type LocalPod, runPodLocally } from "./local_pod.ts";
import { runMca } from "./mca_processes.ts";
import { mcaCommand } from "../../tests/_utils/mca_process.ts";
import { startHubProcess } from "../../tests/_utils/hub_process.ts";
import type { PodSpecLite } from "./pod_volumes.ts";

const CRD = new URL("../../deploy/crds/clusters.mca.k8s.io.yaml", import.meta.url).pathname;
const HUB_NAMESPACE = "mca-system";

/** A running hub and its agents. */
export interface Tunnel {
  hubUrl: string;
  hubCaPem: string;
  hubCaFile: string;
  agents: LocalPod[];
  stop(): Promise<void>;
}

/** Starts the hub, then installs and runs an agent for every member. */
export async function startTunnel(
  env: TestEnv,
  options: { dir: string; members: string[]; say: (line: string) => void },
): Promise<Tunnel> {
  const host = env.cluster("host");
  await applyObject(host.client, parseYaml(await Deno.readTextFile(CRD)));
  await applyObject(host.client, {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: HUB_NAMESPACE },
  });
  await waitFor(() => host.client.list("/apis/mca.k8s.io/v1alpha1/clusters"), {
    description: "the Cluster CRD to be served",
  });
  const hub = await startHubProcess(host, options.dir, { namespace: HUB_NAMESPACE });
  const hubUrl = hub.url;
  const agents: LocalPod[] = [];
  const stop = async () => {
    await Promise.all(agents.map((agent) => agent.stop()));
    await hub.stop();
  };
  try {
    options.say(`The hub listens on ${hubUrl} (log: ${hub.process.logPath})`);
    const hubCaFile = `${options.dir}/hub-ca.crt`;
    await Deno.writeTextFile(hubCaFile, hub.caPem);

    for (const name of options.members) {
      const member = env.cluster(name);
      options.say(`${name}: mca agent install --hub ${hubUrl} --cluster ${name} ...`);
      await runMca([
        "agent",
        "install",
        `--hub=${hubUrl}`,
        `--cluster=${name}`,
        `--kubeconfig=${env.kubeconfigPath}`,
        "--context=host",
        `--member-context=${name}`,
        "--replicas=1",
        // The agent's pod only runs once the demo starts it below: no waiting here.
        "--wait=0",
      ], (line) => options.say(`  ${line}`));
      agents.push(await runAgentPod(member, options.dir));
      await waitFor(async () => {
        const cluster = await host.client.get<ClusterObject>(
          `/apis/mca.k8s.io/v1alpha1/clusters/${name}`,
        );
        return connected(cluster) ? cluster : undefined;
      }, { timeoutMs: 60_000, description: `the hub to report "${name}" connected` });
      options.say(
        `${name}: its agent dialled out to the hub; Cluster "${name}" on the host is Connected`,
      );
    }
    return { hubUrl, hubCaPem: hub.caPem, hubCaFile, agents, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

interface ClusterObject {
  status?: { conditions?: { type: string; status: string }[] };
}

function connected(cluster: ClusterObject): boolean {
  return cluster.status?.conditions?.some((c) => c.type === "Connected" && c.status === "True") ??
    false;
}

// The agent Deployment that `mca agent install` applied, run as one local pod.
async function runAgentPod(member: TestCluster, dir: string): Promise<LocalPod> {
  const deployment = await member.client.get<Parameters<typeof podFromTemplate>[0]>(
    "/apis/apps/v1/namespaces/mca-agent/deployments/mca-agent",
  );
  const pod = await member.client.create<PodSpecLite>(
    "/api/v1/namespaces/mca-agent/pods",
    podFromTemplate(deployment),
  );
  return await runPodLocally(pod, {
    cluster: member,
    dir: `${dir}/${member.name}`,
    entrypointOf: (image) => image.startsWith("ghcr.io/mca-k8s/mca:") ? mcaCommand() : undefined,
    localArgs(_container, root) {
      // In a pod the agent finds its member through the mounted service account at a fixed
      // path; here that path is under the container's root, so it gets a kubeconfig naming it.
      const serviceAccount = `${root}/var/run/secrets/kubernetes.io/serviceaccount`;
      const kubeconfig = `${root}/member.kubeconfig`;
      Deno.writeTextFileSync(
        kubeconfig,
        renderKubeconfig([{
          name: member.name,
          server: member.url,
          caPem: member.caPem,
          user: { tokenFile: `${serviceAccount}/token` },
        }]),
      );
      return [
        `--member-kubeconfig=${kubeconfig}`,
        `--health-listen=127.0.0.1:${freePort()}`,
        "--log-format=text",
      ];
    },
  });
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
