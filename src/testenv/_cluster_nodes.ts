/**
 * The machine-level half of an environment with nodes: preflight (root, packages, binaries,
 * images), the slot and its network, and, once the API servers run, each cluster's node,
 * controllers and DNS addon.
 */
import type { KubeClient } from "../kube/mod.ts";
import type { CertificateAuthority } from "../pki/mod.ts";
import { createCgroup, slotCgroup } from "./_cgroups.ts";
import { type RunningControllers, startControllers } from "./_controllers.ts";
import { installDnsAddon } from "./_dns_addon.ts";
import { raiseInotifyLimit } from "./_host_limits.ts";
import { setUpNodeLink, setUpSlotFirewall } from "./_host_network.ts";
import {
  type ContainerRuntime,
  type RunningNode,
  startContainerRuntime,
  startNode,
} from "./_node.ts";
import { claimSlot, releaseSlot } from "./_slot.ts";
import { ensureHostPackages } from "./host_packages.ts";
import { buildNodeBinaries, findNodeBinaries, type NodeBinaries } from "./node_binaries.ts";
import { type NodeNetwork, planNodeNetwork } from "./node_network.ts";
import { sweepSlot, sweepStaleTestEnvs } from "./sweep.ts";
import { buildTestImages, type TestImages } from "./test_images.ts";
import { waitFor } from "../common/mod.ts";

/** What the machine holds for an environment with nodes before its API servers start. */
export interface NodeGround {
  slot: number;
  binaries: NodeBinaries;
  images: TestImages;
  networks: NodeNetwork[];
}

/**
 * Checks that nodes can run here, builds or finds their binaries and images, sweeps what dead
 * runs left, claims a slot and sets up its firewall and one network namespace per cluster.
 */
export async function prepareNodeGround(
  clusters: number,
  options: { dir: string; build: boolean; progress: (message: string) => void },
): Promise<NodeGround> {
  if (Deno.uid() !== 0) {
    throw new Error(
      "Test clusters with nodes need root: they create network namespaces, veth pairs, iptables rules, " +
        "cgroups and mounts (run the tests as root, as CI does)",
    );
  }
  await ensureHostPackages({ install: options.build, onProgress: options.progress });
  const binaries = options.build
    ? await buildNodeBinaries({ onProgress: options.progress })
    : await findNodeBinaries();
  const images = await buildTestImages({ binaries, onProgress: options.progress });
  await raiseInotifyLimit();
  const swept = sweepStaleTestEnvs();
  if (swept.length > 0) {
    options.progress(`Removed what killed test runs left in slots ${swept.join(", ")}`);
  }
  const slot = claimSlot(options.dir, sweepSlot);
  try {
    const networks = Array.from({ length: clusters }, (_, index) => planNodeNetwork(slot, index));
    createCgroup(controlPlaneCgroup(slot));
    await setUpSlotFirewall(slot);
    for (const net of networks) await setUpNodeLink(net);
    return { slot, binaries, images, networks };
  } catch (error) {
    sweepSlot(slot);
    releaseSlot(slot);
    throw error;
  }
}

/** The cgroup of the slot's controller managers and schedulers. */
export function controlPlaneCgroup(slot: number): string {
  return `/${slotCgroup(slot)}/control-plane`;
}

/** One cluster's parts that run on the machine for its node. */
export interface ClusterNodeParts {
  runtime: ContainerRuntime;
  node: RunningNode;
  controllers: RunningControllers;
}

/** Starts the containerd of cluster `index`'s node and imports the images (before its API server is up). */
export function startNodeRuntime(
  ground: NodeGround,
  index: number,
  options: { clusterName: string; dir: string; progress: (message: string) => void },
): Promise<ContainerRuntime> {
  const { images } = ground;
  return startContainerRuntime({
    clusterName: options.clusterName,
    net: ground.networks[index]!,
    dir: options.dir,
    sandboxImage: images.pause,
    images: [
      images.coredns,
      images.mca,
      images.sampleApp,
      images.deno,
      images.kubectl,
      images.clientGo,
    ],
    onProgress: options.progress,
  });
}

/** What one cluster needs to get its node. */
export interface ClusterNodeSpec {
  clusterName: string;
  dir: string;
  ca: CertificateAuthority;
  apiServerUrl: string;
  serviceAccountKeyFile: string;
  client: KubeClient;
  net: NodeNetwork;
}

/**
 * Starts the cluster's controllers, node and DNS addon, and waits until the node is Ready, the
 * DNS Deployment is available and the controllers have made the `default` ServiceAccount.
 */
export async function startClusterNode(
  ground: NodeGround,
  spec: ClusterNodeSpec & { runtime: ContainerRuntime },
  register: (parts: Partial<ClusterNodeParts>) => void,
): Promise<Omit<ClusterNodeParts, "runtime">> {
  const controllers = await startControllers({
    clusterName: spec.clusterName,
    dir: spec.dir,
    ca: spec.ca,
    apiServerUrl: spec.apiServerUrl,
    serviceAccountKeyFile: spec.serviceAccountKeyFile,
    cgroup: controlPlaneCgroup(ground.slot),
    binaries: ground.binaries,
  });
  register({ controllers });
  const node = await startNode({
    clusterName: spec.clusterName,
    nodeName: nodeName(spec.clusterName),
    net: spec.net,
    dir: spec.dir,
    ca: spec.ca,
    apiServerUrl: spec.apiServerUrl,
    binaries: ground.binaries,
    runtime: spec.runtime,
  });
  register({ controllers, node });
  await installDnsAddon(spec.client, {
    image: ground.images.coredns.ref,
    serviceIp: spec.net.dnsServiceIp,
  });
  const processes = [
    node.processes.kubelet,
    node.processes.containerd,
    node.processes.kubeProxy,
    controllers.controllerManager,
    controllers.scheduler,
  ];
  const died = new AbortController();
  for (const process of processes) {
    process.exited.then((code) =>
      died.abort(new Error(`${process.name} exited with code ${code}: see "${process.logPath}"`))
    );
  }
  const client = spec.client;
  await waitFor(async () => {
    const current = await client.get<NodeObject>(`/api/v1/nodes/${node.name}`);
    return current.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");
  }, {
    timeoutMs: 90_000,
    intervalMs: 250,
    description: `node "${node.name}" of "${spec.clusterName}" to be Ready`,
    signal: died.signal,
  });
  await waitFor(async () => {
    const dns = await client.get<DeploymentObject>(
      "/apis/apps/v1/namespaces/kube-system/deployments/coredns",
    );
    return (dns.status?.availableReplicas ?? 0) >= 1;
  }, {
    timeoutMs: 90_000,
    intervalMs: 250,
    description: `the DNS addon (CoreDNS) of "${spec.clusterName}" to be available`,
    signal: died.signal,
  });
  await waitFor(
    async () => (await client.request("/api/v1/namespaces/default/serviceaccounts/default")).ok,
    {
      timeoutMs: 60_000,
      intervalMs: 250,
      description: `the "default" ServiceAccount of "${spec.clusterName}"`,
      signal: died.signal,
    },
  );
  return { node, controllers };
}

/** The node's name in its cluster. */
export function nodeName(clusterName: string): string {
  return `${clusterName}-node`;
}

/** Stops nodes first (kubelets before containerd), then the controllers. */
export async function stopClusterNodes(parts: Partial<ClusterNodeParts>[]): Promise<void> {
  await Promise.all(parts.map((part) => part.node ? part.node.stop() : part.runtime?.stop()));
  await Promise.all(
    parts.flatMap((part) =>
      part.controllers
        ? [part.controllers.controllerManager.stop(), part.controllers.scheduler.stop()]
        : []
    ),
  );
}

/** Removes the slot's every trace and gives the slot back. */
export function releaseNodeGround(ground: NodeGround): void {
  sweepSlot(ground.slot);
  releaseSlot(ground.slot);
}

interface NodeObject {
  status?: { conditions?: Array<{ type: string; status: string }> };
}

interface DeploymentObject {
  status?: { availableReplicas?: number };
}
