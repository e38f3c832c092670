/**
 * Real Kubernetes clusters on this machine: one etcd and one kube-apiserver per cluster, each
 * with its own CA, serving certificate, service-account issuer and admin credentials; with
 * `nodes`, also a real node (containerd, kubelet, kube-proxy, CNI bridge) in a network namespace
 * of its own, kube-controller-manager, kube-scheduler and the CoreDNS addon per cluster.
 * See README.md in this folder.
 */
import { join } from "node:path";
import { type ClientConfig, type KubeClient, renderKubeconfig } from "../kube/mod.ts";
import { createCertificateAuthority, issueCertificate } from "../pki/mod.ts";
import { buildBinaries, findBinaries, type TestenvBinaries } from "./binaries.ts";
import { type NodeGround, prepareNodeGround } from "./_cluster_nodes.ts";
import { EnvParts, type FrontProxy, startCluster } from "./_cluster_start.ts";
import type { NodeNetwork } from "./node_network.ts";
import type { TestImages } from "./test_images.ts";

/** One test cluster and the admin's ways into it. */
export interface TestCluster {
  name: string;
  url: string;
  caPem: string;
  /** Static token of a system:masters user "mca-admin". */
  adminToken: string;
  /** Client certificate of a system:masters user "mca-admin-cert". */
  adminCertPem: string;
  adminKeyPem: string;
  /** A kubeconfig file with only this cluster (context = cluster name). */
  kubeconfigPath: string;
  /** Admin client config, and a REST client using it. */
  clientConfig: ClientConfig;
  client: KubeClient;
  logPath: string;
  /** With `audit`: the API server's JSON audit log (one event per line). */
  auditLogPath?: string;
  /** The cluster's node, when the environment has nodes. */
  node?: TestNode;
}

/** A cluster's real node. */
export interface TestNode {
  name: string;
  /** Addresses: the node's InternalIP, the pod subnet, the Service range and DNS Service. */
  network: NodeNetwork;
  /** The node's containerd socket (for `ctr --address`). */
  containerdSocket: string;
  /** Log files of the node's processes and the cluster's controllers, by program. */
  logs: Record<string, string>;
}

/** A set of running clusters; dispose or call stop() to tear it all down. */
export interface TestEnv extends AsyncDisposable {
  dir: string;
  clusters: TestCluster[];
  /** A kubeconfig with a context per cluster (current: the first). */
  kubeconfigPath: string;
  etcdUrl: string;
  cluster(name: string): TestCluster;
  /** Process ids of the guards running etcd and each API server (in cluster order). */
  processIds(): { etcd: number; apiServers: number[] };
  /** With nodes: the machine slot holding the environment's names and addresses. */
  slot?: number;
  /** With nodes: the images every node has (use their `ref` with imagePullPolicy Never). */
  images?: TestImages;
  stop(): Promise<void>;
}

/** Options of startTestEnv. */
export interface TestEnvOptions {
  /** Cluster names; default ["host", "east", "west"]. */
  clusters?: string[];
  /** Binaries to use; default found in MCA_TESTENV_BIN or the build cache (built if `build`). */
  binaries?: TestenvBinaries;
  /** Build missing binaries instead of failing (the testenv task and CI do; tests do not). */
  build?: boolean;
  /** Working folder; default a new temporary one, removed at stop. */
  dir?: string;
  extraApiServerArgs?: string[];
  /**
   * A real node per cluster, with kube-controller-manager, kube-scheduler and CoreDNS (root
   * only; see README.md). Default false: API servers alone, on loopback.
   */
  nodes?: boolean;
  /**
   * Audit logging on every API server: `true` for MCA_AUDIT_POLICY (requests through the
   * aggregated entrance), or a policy of one's own (YAML). Default off.
   */
  audit?: boolean | string;
  onProgress?: (message: string) => void;
}

/**
 * The audit policy docs/operations.md recommends: every request through mca's aggregated
 * entrance (who reached which member, and the path) at Metadata level; nothing else.
 */
export const MCA_AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  - level: Metadata
    resources:
      - group: proxy.mca.k8s.io
        resources: ["clusters/proxy"]
  - level: None
`;

const live = new Set<{ killNow(): void }>();
let exitHooked = false;

/**
 * Starts etcd and the API servers (in parallel), and with `nodes` each cluster's node and
 * controllers; waits until every one is ready.
 */
export async function startTestEnv(options: TestEnvOptions = {}): Promise<TestEnv> {
  const names = options.clusters ?? ["host", "east", "west"];
  const progress = options.onProgress ?? (() => {});
  const binaries = options.binaries ??
    (options.build ? await buildBinaries({ onProgress: progress }) : await findBinaries());
  const ownsDir = options.dir === undefined;
  const dir = options.dir ?? await Deno.makeTempDir({ prefix: "mca-testenv-" });
  const started = Date.now();
  const ground = await prepareGround(options, names.length, dir, ownsDir, progress);
  progress(
    `Starting etcd and ${names.length} API servers (${names.join(", ")}) in ${dir}` +
      (ground ? ` with nodes (slot ${ground.slot})` : ""),
  );
  const parts = new EnvParts(dir, ownsDir, ground);
  live.add(parts);
  hookExit();
  let clusters: TestCluster[];
  try {
    // Each node's containerd starts and takes its images while etcd and the API servers start.
    const runtimes = parts.startRuntimes(names, progress);
    const etcd = await parts.startEtcd(binaries.etcd);
    const frontProxy = await frontProxyCredentials();
    clusters = await Promise.all(names.map((name, index) =>
      startCluster({
        name,
        index,
        dir: join(dir, name),
        binaries,
        etcdUrl: etcd.url,
        frontProxy,
        parts,
        runtime: runtimes[index],
        progress,
        ...(options.extraApiServerArgs ? { extraApiServerArgs: options.extraApiServerArgs } : {}),
        ...(options.audit
          ? { auditPolicy: options.audit === true ? MCA_AUDIT_POLICY : options.audit }
          : {}),
      })
    ));
  } catch (error) {
    await parts.tearDown(2_000).catch(() => {});
    live.delete(parts);
    throw error;
  }
  const kubeconfigPath = await writeEnvKubeconfig(dir, clusters);
  progress(`Ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return envOf(parts, clusters, kubeconfigPath, names);
}

/** With `nodes`, the machine slot, networks and images the nodes stand on. */
async function prepareGround(
  options: TestEnvOptions,
  count: number,
  dir: string,
  ownsDir: boolean,
  progress: (message: string) => void,
): Promise<NodeGround | undefined> {
  if (!options.nodes) return undefined;
  try {
    return await prepareNodeGround(count, { dir, build: options.build ?? false, progress });
  } catch (error) {
    if (ownsDir) await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw error;
  }
}

/** The aggregation layer's front proxy: one CA and client certificate for every API server. */
async function frontProxyCredentials(): Promise<FrontProxy> {
  const frontProxyCa = await createCertificateAuthority({ commonName: "front-proxy-ca" });
  return {
    caPem: frontProxyCa.certificatePem,
    client: await issueCertificate(frontProxyCa, {
      commonName: "front-proxy-client",
      usages: ["client"],
    }),
  };
}

/** A kubeconfig with a context per cluster (current: the first). */
async function writeEnvKubeconfig(dir: string, clusters: TestCluster[]): Promise<string> {
  const kubeconfigPath = join(dir, "kubeconfig");
  await Deno.writeTextFile(
    kubeconfigPath,
    renderKubeconfig(clusters.map((cluster) => ({
      name: cluster.name,
      server: cluster.url,
      caPem: cluster.caPem,
      user: { certPem: cluster.adminCertPem, keyPem: cluster.adminKeyPem },
    }))),
    { mode: 0o600 },
  );
  return kubeconfigPath;
}

function envOf(
  parts: EnvParts,
  clusters: TestCluster[],
  kubeconfigPath: string,
  names: string[],
): TestEnv {
  let stopped: Promise<void> | undefined;
  const stop = () =>
    stopped ??= (async () => {
      for (const cluster of clusters) cluster.client.transport.close();
      await parts.tearDown();
      live.delete(parts);
    })();
  return {
    dir: parts.dir,
    clusters,
    kubeconfigPath,
    etcdUrl: parts.etcd!.url,
    ...(parts.ground ? { slot: parts.ground.slot, images: parts.ground.images } : {}),
    cluster(name: string): TestCluster {
      const cluster = clusters.find((c) => c.name === name);
      if (!cluster) throw new Error(`No test cluster "${name}" (clusters: ${names.join(", ")})`);
      return cluster;
    },
    processIds: () => ({
      etcd: parts.etcd!.process.pid,
      apiServers: clusters.map((cluster) =>
        parts.servers.find((s) => s.url === cluster.url)!.process.pid
      ),
    }),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/** On exit or Ctrl-C, kill whatever is still running and remove its folders. */
function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  globalThis.addEventListener("unload", killAll);
}

/** Stops every live test environment at once, synchronously (exit paths). */
export function killAllTestEnvs(): void {
  killAll();
}

function killAll(): void {
  for (const handle of live) {
    try {
      handle.killNow();
    } catch {
      // Best effort on the way out.
    }
  }
  live.clear();
}
