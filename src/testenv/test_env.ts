/**
 * Real Kubernetes control planes on loopback: one etcd and one kube-apiserver per cluster,
 * each with its own CA, serving certificate, service-account issuer and admin credentials.
 * See README.md in this folder for what these clusters cannot do.
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
  onProgress?: (message: string) => void;
}

const live = new Set<{ killNow(): void; dir: string; ownsDir: boolean }>();
let exitHooked = false;

/** Starts etcd and the API servers (in parallel), and waits until every one is ready. */
export async function startTestEnv(options: TestEnvOptions = {}): Promise<TestEnv> {
  const names = options.clusters ?? ["host", "east", "west"];
  const progress = options.onProgress ?? (() => {});
  const binaries = options.binaries ??
    (options.build ? await buildBinaries({ onProgress: progress }) : await findBinaries());
  const ownsDir = options.dir === undefined;
  const dir = options.dir ?? await Deno.makeTempDir({ prefix: "mca-testenv-" });
  const started = Date.now();
  progress(`Starting etcd and ${names.length} API servers (${names.join(", ")}) in ${dir}`);
  const etcd = await startEtcd(binaries.etcd, dir);
  const servers: RunningKubeApiServer[] = [];
  const handle = {
    dir,
    ownsDir,
    killNow() {
      for (const server of servers) server.process.killNow();
      etcd.process.killNow();
      if (ownsDir) Deno.removeSync(dir, { recursive: true });
    },
  };
  live.add(handle);
  hookExit();
  let clusters: TestCluster[];
  try {
    clusters = await Promise.all(names.map(async (name) => {
      const clusterDir = join(dir, name);
      await Deno.mkdir(clusterDir, { recursive: true });
      const ca = await createCertificateAuthority({ commonName: `${name}-ca` });
      const admin = await issueCertificate(ca, {
        commonName: "mca-admin-cert",
        organizations: ["system:masters"],
        usages: ["client"],
      });
      const adminToken = randomToken();
      const server = await startKubeApiServer({
        name,
        binary: binaries.kubeApiServer,
        etcdUrl: etcd.url,
        dir: clusterDir,
        ca,
        admin,
        adminToken,
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
      return {
        name,
        url: server.url,
        caPem: ca.certificatePem,
        adminToken,
        adminCertPem: admin.certificatePem,
        adminKeyPem: admin.privateKeyPem,
        kubeconfigPath,
        clientConfig,
        client: createKubeClient(createKubeTransport(clientConfig)),
        logPath: server.process.logPath,
      };
    }));
  } catch (error) {
    await Promise.all(servers.map((server) => server.process.stop(2_000)));
    await etcd.process.stop(2_000);
    live.delete(handle);
    if (ownsDir) await Deno.remove(dir, { recursive: true }).catch(() => {});
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
      await Promise.all(servers.map((server) => server.process.stop()));
      await etcd.process.stop();
      live.delete(handle);
      if (ownsDir) await Deno.remove(dir, { recursive: true }).catch(() => {});
    })();
  return {
    dir,
    clusters,
    kubeconfigPath,
    etcdUrl: etcd.url,
    cluster(name: string): TestCluster {
      const cluster = clusters.find((c) => c.name === name);
      if (!cluster) throw new Error(`No test cluster "${name}" (clusters: ${names.join(", ")})`);
      return cluster;
    },
    processIds: () => ({
      etcd: etcd.process.pid,
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
