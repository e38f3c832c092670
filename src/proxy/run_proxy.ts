/**
 * `mca proxy`: the edge that starts the sidecar, as named steps: load the config and its
 * upstreams, guard the process from the pod's apps, serve TLS on loopback with the pod's token
 * and CA, hand the apps their credentials, serve health, and reload on change.
 */
import { renderKubeconfig } from "../kube/mod.ts";
import { createLogger, type Logger } from "../log/mod.ts";
import { statusRefusalBody } from "../forward/mod.ts";
import {
  createMetricsRegistry,
  type MetricsRegistry,
  registerProcessMetrics,
} from "../metrics/mod.ts";
import { type CertificateAuthority, issueCertificate } from "../pki/mod.ts";
import { type Http1Server, listenHttp1 } from "../http1/mod.ts";
import { writeAppCredentials } from "./app_credentials.ts";
import { loadOrCreateProxyIdentity } from "./proxy_identity.ts";
import { makeNotDumpable } from "./not_dumpable.ts";
import type { InClusterSource } from "./cluster_upstreams.ts";
import { createReloader, loadProxyState, type ProxyState, watchConfig } from "./config_reload.ts";
import { createHealthHandler } from "./health_app.ts";
import { OwnerIndex } from "./owner_index.ts";
import { createProxyHandler } from "./proxy_handler.ts";
import { createProxyMetrics, type ProxyMetrics } from "./proxy_metrics.ts";
import type { ResolvedProxyOptions } from "./proxy_options.ts";

/** How long a stopping proxy lets requests in flight finish before it cuts them. */
export const STOP_GRACE_MS = 5_000;

/** A running proxy. */
export interface RunningProxy {
  url: string;
  port: number;
  healthPort?: number;
  token: string;
  caPem: string;
  /** Applies the config file again now (the watcher does this on change). */
  reload(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts the proxy; an invalid config or an unusable cluster stops it before it listens. */
export async function runProxy(
  options: ResolvedProxyOptions,
  deps: { logger?: Logger; env?: (name: string) => string | undefined } = {},
): Promise<RunningProxy> {
  const logger = deps.logger ??
    createLogger({ level: options.logLevel, format: options.logFormat });
  const env = deps.env ?? ((name: string) => Deno.env.get(name));
  const inCluster: InClusterSource = { serviceAccountDir: options.serviceAccountDir, env };
  // Started first: a new CA waits for Web Crypto's first key (tens of milliseconds on a busy
  // node), which the config's loading can overlap.
  const identity = loadOrCreateProxyIdentity(options.stateDir);
  identity.catch(() => {}); // awaited below; a config error may come first
  const state = await loadProxyState(options, { inCluster, logger });
  if (options.appCredentialsDir) guardFromApps(logger);
  const registry = createMetricsRegistry();
  registerProcessMetrics(registry);
  const metrics = createProxyMetrics(registry);
  const { token, ca, reused } = await identity;
  if (reused) logger.info("kept the token and CA of an earlier run in this pod");
  const stopping = new AbortController();
  const server = await serveProxy(options, { state, token, ca, metrics, logger, stopping });
  const url = proxyUrl(options.listen.hostname, server.port);
  await handOutCredentials(options, { env, url, token, ca });
  const health = serveHealth(options, registry);
  logger.info("proxy listening", {
    url,
    clusters: Object.keys(state.config.clusters),
    routes: state.config.routes.length,
    default: state.config.default,
  });
  const reload = await createReloader(options, state, { inCluster, logger, metrics });
  const watcher = options.configPath ? watchConfig(options.configPath, reload, logger) : undefined;
  return {
    url,
    port: server.port,
    ...(health ? { healthPort: (health.server.addr as Deno.NetAddr).port } : {}),
    token,
    caPem: ca.certificatePem,
    reload,
    async stop() {
      health?.unready();
      watcher?.close();
      // No new connections; watches end at their next event, as when kube-apiserver ends
      // them, so clients re-watch rather than see a broken stream; other requests get
      // STOP_GRACE_MS to finish.
      const shutdown = server.shutdown(STOP_GRACE_MS);
      stopping.abort();
      const cut = await shutdown;
      await health?.server.shutdown();
      for (const upstream of state.clusters.upstreams.values()) upstream.close();
      logger.info("proxy stopped", { cut });
    },
  };
}

/** A sidecar: apps of the pod must not reach its state through /proc (not_dumpable.ts). */
function guardFromApps(logger: Logger): void {
  const guarded = makeNotDumpable();
  if (guarded.type === "failed") {
    logger.warn("other processes of the pod may read this process's files", {
      reason: guarded.reason,
    });
  }
}

/** What serving the proxy needs. */
interface ServeOptions {
  state: ProxyState;
  token: string;
  ca: CertificateAuthority;
  metrics: ProxyMetrics;
  logger: Logger;
  stopping: AbortController;
}

/**
 * The proxy's own HTTP/1.1 on node:tls, with a certificate for the names apps use and
 * TCP_NODELAY: each watch event is its own small write, which Nagle's algorithm would hold back
 * (PLATFORM-NOTES).
 */
async function serveProxy(
  options: ResolvedProxyOptions,
  { state, token, ca, metrics, logger, stopping }: ServeOptions,
): Promise<Http1Server> {
  const serving = await issueCertificate(ca, {
    commonName: "mca-proxy",
    dnsNames: ["localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"],
    ipAddresses: ["127.0.0.1", "::1"],
    validityDays: 3650,
  });
  const handler = createProxyHandler({
    config: () => state.config,
    upstream: (name) => state.clusters.upstreams.get(name),
    unavailableReason: (name) => state.clusters.unavailable.get(name),
    token,
    index: new OwnerIndex(),
    metrics,
    logger,
    maxBodyBytes: options.maxBodyBytes,
    stopping: stopping.signal,
  });
  return await listenHttp1({
    hostname: options.listen.hostname,
    port: options.listen.port,
    tls: { cert: serving.certificatePem, key: serving.privateKeyPem },
  }, {
    request: handler.handleRequest,
    upgrade: handler.handleUpgrade,
    refusalBody: statusRefusalBody,
  });
}

/** The URL apps reach the proxy at: an address to listen on everywhere is reached on loopback. */
function proxyUrl(hostname: string, port: number): string {
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  return `https://${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}`;
}

/** Writes the apps' token and CA (a sidecar) or a kubeconfig (a workstation), as asked. */
async function handOutCredentials(
  options: ResolvedProxyOptions,
  { env, url, token, ca }: {
    env: (name: string) => string | undefined;
    url: string;
    token: string;
    ca: CertificateAuthority;
  },
): Promise<void> {
  if (options.appCredentialsDir) {
    const namespace = env("MCA_POD_NAMESPACE") ??
      (await Deno.readTextFile(`${options.serviceAccountDir}/namespace`).catch(() => "default"))
        .trim();
    await writeAppCredentials(options.appCredentialsDir, {
      caPem: ca.certificatePem,
      namespace,
      token,
    });
  }
  if (options.workstation?.writeKubeconfig) {
    await Deno.writeTextFile(
      options.workstation.writeKubeconfig,
      renderKubeconfig([{
        name: "mca-proxy",
        server: url,
        caPem: ca.certificatePem,
        user: { token },
      }]),
      { mode: 0o600 },
    );
  }
}

/** The health and metrics server; ready until the proxy stops. */
interface HealthServer {
  server: Deno.HttpServer;
  /** Readiness fails from now on. */
  unready(): void;
}

/** Serves health and metrics, when asked for. */
function serveHealth(
  options: ResolvedProxyOptions,
  registry: MetricsRegistry,
): HealthServer | undefined {
  if (!options.healthListen) return undefined;
  let ready = true;
  const handler = createHealthHandler({ isReady: () => ready, metrics: registry });
  const server = Deno.serve({ ...options.healthListen, onListen() {} }, handler);
  return { server, unready: () => void (ready = false) };
}
