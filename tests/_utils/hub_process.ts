/**
 * A real `mca hub` process on loopback, seen only the way an operator sees it: its CA from the
 * Secret it keeps on the host, `/readyz`, and the agents it reports on `/metrics`.
 */
import { freePort, type ManagedProcess, type TestCluster } from "../../src/testenv/mod.ts";
import { waitFor } from "../../src/common/mod.ts";
import { startMca } from "./mca_process.ts";

/** Where the hub keeps its CA (the default of `--ca-secret`) and under which key. */
const CA_SECRET = "mca-hub-ca";
const CA_KEY = "ca.crt";

/** A running hub process. */
export interface HubProcess {
  url: string;
  port: number;
  /** The replicas' listener, when the hub runs as one of several replicas. */
  peerPort?: number;
  caPem: string;
  process: ManagedProcess;
  /** Connected agents of a cluster, as the hub's `/metrics` reports them (`mca_hub_agents`). */
  agents(cluster: string): Promise<number>;
  /** The hub's `/metrics` text (scraped with the host admin's token). */
  metrics(): Promise<string>;
  /** SIGTERM (the hub closes its sessions and listeners), then waits for the exit. */
  stop(): Promise<void>;
}

/** How to start a hub process. */
export interface HubProcessOptions {
  namespace: string;
  /** The hub's host credentials (default: the host cluster's admin kubeconfig). */
  kubeconfig?: string;
  /** Public listener port (default: a free one). */
  port?: number;
  /** Runs the hub as one of several replicas; the peer port defaults to a free one. */
  replica?: { id: string; peerPort?: number };
  /** What to wait for: "ready" (`/readyz` answers 200, the default) or "listening" (`/healthz`). */
  waitUntil?: "ready" | "listening";
  /** More flags of `mca hub`, e.g. `--cert-validity=6s`. */
  args?: string[];
}

/** The value of a sample in Prometheus text format, 0 when the series is absent. */
export function metricValue(text: string, name: string, labels: Record<string, string>): number {
  const pairs = Object.entries(labels).map(([key, value]) => `${key}="${value}"`).join(",");
  const wanted = pairs ? `${name}{${pairs}} ` : `${name} `;
  const line = text.split("\n").find((l) => l.startsWith(wanted));
  return line === undefined ? 0 : Number(line.slice(wanted.length));
}

/**
 * Starts `mca hub` against the host cluster and waits until it answers. Ports picked here are
 * retried once taken by someone else in the meantime; given ports (a restart) are not.
 */
export async function startHubProcess(
  host: TestCluster,
  dir: string,
  options: HubProcessOptions,
): Promise<HubProcess> {
  const picked = options.port === undefined || options.replica?.peerPort === undefined;
  for (let attempt = 1;; attempt++) {
    const port = options.port ?? freePort();
    const peerPort = options.replica ? options.replica.peerPort ?? freePort() : undefined;
    try {
      return await startOnce(host, dir, options, port, peerPort);
    } catch (error) {
      const clash = error instanceof Error && /in use/i.test(error.message);
      if (!clash || !picked || attempt >= 3) throw error;
    }
  }
}

async function startOnce(
  host: TestCluster,
  dir: string,
  options: HubProcessOptions,
  port: number,
  peerPort: number | undefined,
): Promise<HubProcess> {
  const process = await startMca([
    "hub",
    `--kubeconfig=${options.kubeconfig ?? host.kubeconfigPath}`,
    `--namespace=${options.namespace}`,
    `--listen=127.0.0.1:${port}`,
    "--dns-names=localhost",
    "--ip-addresses=127.0.0.1",
    "--log-format=text",
    ...(options.replica && peerPort !== undefined
      ? [
        `--replica-id=${options.replica.id}`,
        // Replicas reach each other on their own listener (mutual TLS).
        `--peer-listen=127.0.0.1:${peerPort}`,
        `--peer-url=https://127.0.0.1:${peerPort}`,
      ]
      : []),
    ...options.args ?? [],
  ], { dir, name: `hub-${options.replica?.id ?? "0"}-${port}` });
  const url = `https://127.0.0.1:${port}`;
  // A hub that exits while we wait ends the wait at once, with its log.
  const exited = new AbortController();
  void process.exited.then(async (code) =>
    exited.abort(new Error(`mca hub exited with code ${code}:\n${await process.tail(20)}`))
  );
  const readCa = async () => {
    const secret = await host.client.get<{ data?: Record<string, string> }>(
      `/api/v1/namespaces/${options.namespace}/secrets/${CA_SECRET}`,
    );
    const data = secret.data?.[CA_KEY];
    return data ? atob(data) : undefined;
  };
  const caPem = await waitFor(readCa, {
    signal: exited.signal,
    description: `the hub's CA Secret "${CA_SECRET}" (log: ${process.logPath})`,
  }).catch(async (error) => {
    await process.stop();
    throw error;
  });
  const client = Deno.createHttpClient({ caCerts: [caPem] });
  const path = options.waitUntil === "listening" ? "/healthz" : "/readyz";
  await waitFor(async () => {
    const response = await fetch(`${url}${path}`, { client });
    await response.body?.cancel();
    return response.status === 200;
  }, { signal: exited.signal, description: `the hub's ${path} (log: ${process.logPath})` })
    .catch(async (error) => {
      client.close();
      await process.stop();
      throw error;
    });
  let stopped = false;
  const metrics = async () => {
    const response = await fetch(`${url}/metrics`, {
      headers: { Authorization: `Bearer ${host.adminToken}` },
      client,
    });
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new Error(`The hub's /metrics answered ${response.status}`);
    }
    return await response.text();
  };
  return {
    url,
    port,
    ...(peerPort !== undefined ? { peerPort } : {}),
    caPem,
    process,
    metrics,
    async agents(cluster) {
      return metricValue(await metrics(), "mca_hub_agents", { cluster });
    },
    async stop() {
      await process.stop();
      if (stopped) return;
      stopped = true;
      client.close();
    },
  };
}
