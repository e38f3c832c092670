/**
 * One test cluster brought up (its CA, admin credentials, kube-apiserver, and with nodes its
 * node and controllers), and the running parts of an environment that teardown stops.
 */
import { join } from "node:path";
import { toHex } from "../bytes.ts";
import {
  type ClientConfig,
  createKubeClient,
  createKubeTransport,
  renderKubeconfig,
} from "../kube/mod.ts";
import {
  type CertificateAuthority,
  createCertificateAuthority,
  issueCertificate,
  type IssuedCertificate,
} from "../pki/mod.ts";
import type { TestenvBinaries } from "./binaries.ts";
import { startEtcd } from "./_etcd.ts";
import { type RunningKubeApiServer, startKubeApiServer } from "./_kube_apiserver.ts";
import {
  type ClusterNodeParts,
  type NodeGround,
  nodeName,
  releaseNodeGround,
  startClusterNode,
  startNodeRuntime,
  stopClusterNodes,
} from "./_cluster_nodes.ts";
import { NODE_API_SERVER_PORT } from "./_host_network.ts";
import type { TestCluster } from "./test_env.ts";

/** The aggregation layer's front proxy, shared by every API server of the environment. */
export type FrontProxy = { caPem: string; client: IssuedCertificate };

type Etcd = Awaited<ReturnType<typeof startEtcd>>;
type NodeRuntime = Awaited<ReturnType<typeof startNodeRuntime>>;

/** What an environment has started so far: stopped in reverse order, or killed on exit. */
export class EnvParts {
  readonly servers: RunningKubeApiServer[] = [];
  nodeParts: Partial<ClusterNodeParts>[] = [];
  etcd: Etcd | undefined;
  #runtimes: Promise<unknown>[] = [];

  constructor(
    readonly dir: string,
    readonly ownsDir: boolean,
    readonly ground: NodeGround | undefined,
  ) {}

  /** With nodes, each cluster's containerd, started at once (a failure surfaces where awaited). */
  startRuntimes(
    names: string[],
    progress: (message: string) => void,
  ): (Promise<NodeRuntime> | undefined)[] {
    this.nodeParts = names.map(() => ({}));
    const ground = this.ground;
    if (!ground) return names.map(() => undefined);
    const runtimes = names.map((name, index) => {
      const runtime = startNodeRuntime(ground, index, {
        clusterName: name,
        dir: join(this.dir, name),
        progress,
      });
      runtime.then((running) => this.nodeParts[index]!.runtime = running, () => {});
      return runtime;
    });
    this.#runtimes = runtimes;
    return runtimes;
  }

  async startEtcd(binary: string): Promise<Etcd> {
    this.etcd = await startEtcd(binary, this.dir);
    return this.etcd;
  }

  killNow(): void {
    for (const part of this.nodeParts) {
      part.runtime?.killNow();
      part.controllers?.controllerManager.killNow();
      part.controllers?.scheduler.killNow();
    }
    for (const server of this.servers) server.process.killNow();
    this.etcd?.process.killNow();
    if (this.ground) releaseNodeGround(this.ground);
    if (this.ownsDir) Deno.removeSync(this.dir, { recursive: true });
  }

  async tearDown(graceMs?: number): Promise<void> {
    // A runtime still importing images is stopped once it has started.
    await Promise.allSettled(this.#runtimes);
    await stopClusterNodes(this.nodeParts);
    await Promise.all(this.servers.map((server) => server.process.stop(graceMs)));
    await this.etcd?.process.stop(graceMs);
    if (this.ground) releaseNodeGround(this.ground);
    if (this.ownsDir) await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }
}

/** What starting one cluster needs. */
export interface ClusterStart {
  name: string;
  index: number;
  dir: string;
  binaries: TestenvBinaries;
  etcdUrl: string;
  frontProxy: FrontProxy;
  parts: EnvParts;
  runtime: Promise<NodeRuntime> | undefined;
  extraApiServerArgs?: string[];
  /** An audit policy (YAML) for the API server. */
  auditPolicy?: string;
  progress: (message: string) => void;
}

/** Starts one cluster's control plane, and its node when the environment has nodes. */
export async function startCluster(start: ClusterStart): Promise<TestCluster> {
  await Deno.mkdir(start.dir, { recursive: true });
  const ca = await createCertificateAuthority({ commonName: `${start.name}-ca` });
  const admin = await issueCertificate(ca, {
    commonName: "mca-admin-cert",
    organizations: ["system:masters"],
    usages: ["client"],
  });
  const adminToken = toHex(crypto.getRandomValues(new Uint8Array(24)));
  const server = await startApiServer(start, ca, admin, adminToken);
  start.parts.servers.push(server);
  const kubeconfigPath = join(start.dir, "kubeconfig");
  await Deno.writeTextFile(
    kubeconfigPath,
    renderKubeconfig([{
      name: start.name,
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
    source: `test cluster "${start.name}"`,
  };
  const cluster: TestCluster = {
    name: start.name,
    url: server.url,
    caPem: ca.certificatePem,
    adminToken,
    adminCertPem: admin.certificatePem,
    adminKeyPem: admin.privateKeyPem,
    kubeconfigPath,
    clientConfig,
    client: createKubeClient(createKubeTransport(clientConfig)),
    logPath: server.process.logPath,
    ...(server.auditLogPath ? { auditLogPath: server.auditLogPath } : {}),
  };
  if (start.runtime) await startNodeOf(start, cluster, ca, server, await start.runtime);
  return cluster;
}

async function startApiServer(
  start: ClusterStart,
  ca: CertificateAuthority,
  admin: IssuedCertificate,
  adminToken: string,
): Promise<RunningKubeApiServer> {
  const net = start.parts.ground?.networks[start.index];
  return await startKubeApiServer({
    name: start.name,
    binary: start.binaries.kubeApiServer,
    etcdUrl: start.etcdUrl,
    dir: start.dir,
    ca,
    admin,
    adminToken,
    frontProxy: start.frontProxy,
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
    ...(start.extraApiServerArgs ? { extraArgs: start.extraApiServerArgs } : {}),
    ...(start.auditPolicy ? { auditPolicy: start.auditPolicy } : {}),
  });
}

/** The cluster's kubelet, controllers and DNS, on the runtime started for it. */
async function startNodeOf(
  start: ClusterStart,
  cluster: TestCluster,
  ca: CertificateAuthority,
  server: RunningKubeApiServer,
  runtime: NodeRuntime,
): Promise<void> {
  const ground = start.parts.ground!;
  const net = ground.networks[start.index]!;
  start.progress(`Starting the kubelet, controllers and DNS of "${start.name}"...`);
  const { node } = await startClusterNode(
    ground,
    {
      clusterName: start.name,
      dir: start.dir,
      ca,
      apiServerUrl: server.url,
      serviceAccountKeyFile: server.serviceAccountKeyFile,
      client: cluster.client,
      net,
      runtime,
    },
    (registered) => Object.assign(start.parts.nodeParts[start.index]!, registered),
  );
  cluster.node = {
    name: nodeName(start.name),
    network: net,
    containerdSocket: node.paths.containerdSocket,
    logs: Object.fromEntries(
      ["containerd", "kubelet", "kube-proxy", "kube-controller-manager", "kube-scheduler"]
        .map((program) => [program, join(start.dir, `${program}.log`)]),
    ),
  };
  start.progress(`Node "${node.name}" of "${start.name}" is Ready`);
}
