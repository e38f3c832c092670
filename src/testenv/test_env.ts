/**
 * Real Kubernetes clusters on this machine: one etcd and one kube-apiserver per cluster, each
 * with its own CA, serving certificate, service-account issuer and admin credentials; with
 * `nodes`, also a real node (containerd, kubelet, kube-proxy, CNI bridge) in a network namespace
 * of its own, kube-controller-manager, kube-scheduler and the CoreDNS addon per cluster.
 * See README.md in this folder.
 */
import { join } from "node:path";
import {
  type ClientConfig,
  createKubeClient,
  createKubeTransport,
  type KubeClient,
  renderKubeconfig,
} from "../kube/mod.ts";
import { toHex } from "../bytes.ts";
import { createCertificateAuthority, issueCertificate } from "../pki/mod.ts";
import { buildBinaries, findBinaries, type TestenvBinaries } from "./binaries.ts";
import { startEtcd } from "./_etcd.ts";
import { type RunningKubeApiServer, startKubeApiServer } from "./_kube_apiserver.ts";
import {
  type ClusterNodeParts,
  type NodeGround,
  nodeName,
  prepareNodeGround,
  releaseNodeGround,
  startClusterNode,
  startNodeRuntime,
  stopClusterNodes,
} from "./_cluster_nodes.ts";
import { NODE_API_SERVER_PORT } from "./_host_network.ts";
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
  onProgress?: (message: string) => void;
}

const live = new Set<{ killNow(): void; dir: string; ownsDir: boolean }>();
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
  let ground: NodeGround | undefined;
  try {
    if (options.nodes) {
      ground = await prepareNodeGround(names.length, {
        dir,
        build: options.build ?? false,
        progress,
      });
    }
  } catch (error) {
    if (ownsDir) await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw error;
  }
  progress(
    `Starting etcd and ${names.length} API servers (${names.join(", ")}) in ${dir}` +
      (ground ? ` with nodes (slot ${ground.slot})` : ""),
  );
  const servers: RunningKubeApiServer[] = [];
  const nodeParts: Partial<ClusterNodeParts>[] = names.map(() => ({}));
  let etcd: Awaited<ReturnType<typeof startEtcd>> | undefined;
  const handle = {
    dir,
    ownsDir,
    killNow() {
      for (const part of nodeParts) {
        part.runtime?.killNow();
        part.controllers?.controllerManager.killNow();
        part.controllers?.scheduler.killNow();
      }
      for (const server of servers) server.process.killNow();
      etcd?.process.killNow();
      if (ground) releaseNodeGround(ground);
      if (ownsDir) Deno.removeSync(dir, { recursive: true });
    },
  };
  live.add(handle);
  hookExit();
  let runtimes: Promise<unknown>[] = [];
  const tearDown = async (graceMs?: number) => {
    // A runtime still importing images is stopped once it has started.
    await Promise.allSettled(runtimes);
    await stopClusterNodes(nodeParts);
    await Promise.all(servers.map((server) => server.process.stop(graceMs)));
    await etcd?.process.stop(graceMs);
    if (ground) releaseNodeGround(ground);
    live.delete(handle);
    if (ownsDir) await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  let clusters: TestCluster[];
  try {
    // Each node's containerd starts and takes its images while etcd and the API servers start.
    const started = ground
      ? names.map((name, index) => {
        const runtime = startNodeRuntime(ground!, index, {
          clusterName: name,
          dir: join(dir, name),
          progress,
        });
        // A runtime that fails is reported where its cluster waits for it.
        runtime.then((running) => nodeParts[index]!.runtime = running, () => {});
        return runtime;
      })
      : [];
    runtimes = started;
    etcd = await startEtcd(binaries.etcd, dir);
    const frontProxyCa = await createCertificateAuthority({ commonName: "front-proxy-ca" });
    const frontProxy = {
      caPem: frontProxyCa.certificatePem,
      client: await issueCertificate(frontProxyCa, {
        commonName: "front-proxy-client",
        usages: ["client"],
      }),
    };
    clusters = await Promise.all(names.map(async (name, index) => {
      const clusterDir = join(dir, name);
      await Deno.mkdir(clusterDir, { recursive: true });
      const ca = await createCertificateAuthority({ commonName: `${name}-ca` });
      const admin = await issueCertificate(ca, {
        commonName: "mca-admin-cert",
        organizations: ["system:masters"],
        usages: ["client"],
      });
      const adminToken = randomToken();
      const net = ground?.networks[index];
      const server = await startKubeApiServer({
        name,
        binary: binaries.kubeApiServer,
        etcdUrl: etcd!.url,
        dir: clusterDir,
        ca,
        admin,
        adminToken,
        frontProxy,
        ...(net
          ? {
            node: {
              address: net.hostIp,
              port: NODE_API_SERVER_PORT,
              serviceCidr: net.serviceCidr,
              kubernetesServiceIp: net.kubernetesServiceIp,
              kubeletClient: await issueCertificate(ca, {
                commonName: "kube-apiserver-kubelet-client",
                organizations: ["system:masters"],
                usages: ["client"],
              }),
            },
          }
          : {}),
        ...(options.extraApiServerArgs ? { extraArgs: options.extraApiServerArgs } : {}),
      });
      servers.push(server);
      const kubeconfigPath = join(clusterDir, "kubeconfig");
      await Deno.writeTextFile(
        kubeconfigPath,
        renderKubeconfig([{
          name,
          server: server.url,
          caPem: ca.certificatePem,
          user: { certPem: admin.certificatePem, keyPem: admin.privateKeyPem },
        }]),
        { mode: 0o600 },
      );
      const clientConfig: ClientConfig = {
        server: server.url,
        tls: { caPem: ca.certificatePem, insecureSkipVerify: false },
        disableCompression: false,
        credentials: { type: "token", token: adminToken },
        namespace: "default",
        source: `test cluster "${name}"`,
      };
      const client = createKubeClient(createKubeTransport(clientConfig));
      const cluster: TestCluster = {
        name,
        url: server.url,
        caPem: ca.certificatePem,
        adminToken,
        adminCertPem: admin.certificatePem,
        adminKeyPem: admin.privateKeyPem,
        kubeconfigPath,
        clientConfig,
        client,
        logPath: server.process.logPath,
      };
      if (ground && net) {
        const parts = nodeParts[index]!;
        const runtime = await started[index]!;
        progress(`Starting the kubelet, controllers and DNS of "${name}"...`);
        const { node } = await startClusterNode(
          ground,
          {
            clusterName: name,
            dir: clusterDir,
            ca,
            apiServerUrl: server.url,
            serviceAccountKeyFile: server.serviceAccountKeyFile,
            client,
            net,
            runtime,
          },
          (registered) => Object.assign(parts, registered),
        );
        cluster.node = {
          name: nodeName(name),
          network: net,
          containerdSocket: node.paths.containerdSocket,
          logs: Object.fromEntries(
            ["containerd", "kubelet", "kube-proxy", "kube-controller-manager", "kube-scheduler"]
              .map((program) => [program, join(clusterDir, `${program}.log`)]),
          ),
        };
        progress(`Node "${node.name}" of "${name}" is Ready`);
      }
      return cluster;
    }));
  } catch (error) {
    await tearDown(2_000).catch(() => {});
    throw error;
  }
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
  progress(`Ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  let stopped: Promise<void> | undefined;
  const stop = () =>
    stopped ??= (async () => {
      for (const cluster of clusters) cluster.client.transport.close();
      await tearDown();
    })();
  return {
    dir,
    clusters,
    kubeconfigPath,
    etcdUrl: etcd.url,
    ...(ground ? { slot: ground.slot, images: ground.images } : {}),
    cluster(name: string): TestCluster {
      const cluster = clusters.find((c) => c.name === name);
      if (!cluster) throw new Error(`No test cluster "${name}" (clusters: ${names.join(", ")})`);
      return cluster;
    },
    processIds: () => ({
      etcd: etcd!.process.pid,
      apiServers: clusters.map((cluster) =>
        servers.find((s) => s.url === cluster.url)!.process.pid
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

function randomToken(): string {
  return toHex(crypto.getRandomValues(new Uint8Array(24)));
}
