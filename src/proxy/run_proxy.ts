/** `mca proxy`: the edge that loads config, builds upstreams, serves TLS on loopback and reloads on change. */
import { basename, dirname } from "node:path";
import { renderKubeconfig } from "../kube/mod.ts";
import { createLogger, type Logger } from "../log/mod.ts";
import { statusRefusalBody } from "../forward/mod.ts";
import { createMetricsRegistry } from "../metrics/mod.ts";
import { issueCertificate } from "../pki/mod.ts";
import { writeAppCredentials } from "./app_credentials.ts";
import { loadOrCreateProxyIdentity } from "./proxy_identity.ts";
import { makeNotDumpable } from "./not_dumpable.ts";
import {
  buildUpstreams,
  type ClusterUpstreams,
  type InClusterSource,
} from "./cluster_upstreams.ts";
import { createHealthHandler } from "./health_app.ts";
import { listenHttp1 } from "../http1/mod.ts";
import { loadProxyConfig } from "./load_proxy_config.ts";
import { OwnerIndex } from "./owner_index.ts";
import type { ProxyConfig } from "./proxy_config.ts";
import { createProxyHandler } from "./proxy_handler.ts";
import { createProxyMetrics } from "./proxy_metrics.ts";
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
  let config: ProxyConfig = await loadProxyConfig(options);
  let clusters: ClusterUpstreams = await buildUpstreams(config, { inCluster, logger });
  if (options.appCredentialsDir) {
    // A sidecar: apps of the pod must not reach its state through /proc (not_dumpable.ts).
    const guarded = makeNotDumpable();
    if (guarded.type === "failed") {
      logger.warn("other processes of the pod may read this process's files", {
        reason: guarded.reason,
      });
    }
  }
  const registry = createMetricsRegistry();
  const metrics = createProxyMetrics(registry);
  const { token, ca, reused } = await identity;
  if (reused) logger.info("kept the token and CA of an earlier run in this pod");
  const serving = await issueCertificate(ca, {
    commonName: "mca-proxy",
    dnsNames: ["localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"],
    ipAddresses: ["127.0.0.1", "::1"],
    validityDays: 3650,
  });
  const stopping = new AbortController();
  const handler = createProxyHandler({
    config: () => config,
    upstream: (name) => clusters.upstreams.get(name),
    unavailableReason: (name) => clusters.unavailable.get(name),
    token,
    index: new OwnerIndex(),
    metrics,
    logger,
    maxBodyBytes: options.maxBodyBytes,
    stopping: stopping.signal,
  });
  // The proxy's own HTTP/1.1 on node:tls, with TCP_NODELAY: each watch event is its own small
  // write, which Nagle's algorithm would hold back (PLATFORM-NOTES).
  const server = await listenHttp1({
    hostname: options.listen.hostname,
    port: options.listen.port,
    tls: { cert: serving.certificatePem, key: serving.privateKeyPem },
  }, {
    request: handler.handleRequest,
    upgrade: handler.handleUpgrade,
    refusalBody: statusRefusalBody,
  });
  const port = server.port;
  const host = options.listen.hostname.includes(":")
    ? `[${options.listen.hostname}]`
    : options.listen.hostname;
  const url = `https://${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}`;

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
  let ready = true;
  let health: Deno.HttpServer | undefined;
  if (options.healthListen) {
    const handler = createHealthHandler({ isReady: () => ready, metrics: registry });
    health = Deno.serve({ ...options.healthListen, onListen() {} }, handler);
  }
  logger.info("proxy listening", {
    url,
    clusters: Object.keys(config.clusters),
    routes: config.routes.length,
    default: config.default,
  });

  let appliedText = options.configPath
    ? await Deno.readTextFile(options.configPath).catch(() => "")
    : "";
  const reload = async () => {
    try {
      const text = options.configPath
        ? await Deno.readTextFile(options.configPath).catch(() => "")
        : "";
      if (text === appliedText) return;
      appliedText = text;
      const next = await loadProxyConfig(options);
      const nextClusters = await buildUpstreams(next, { inCluster, logger });
      const old = clusters;
      config = next;
      clusters = nextClusters;
      for (const upstream of old.upstreams.values()) upstream.close();
      metrics.configReloads.inc({ result: "ok" });
      logger.info("config reloaded", {
        clusters: Object.keys(next.clusters),
        routes: next.routes.length,
      });
    } catch (error) {
      // A bad config never replaces a good one.
      metrics.configReloads.inc({ result: "error" });
      logger.error("config reload failed; keeping the last good config", {
        error: (error as Error).message,
      });
    }
  };
  const watcher = options.configPath ? watchConfig(options.configPath, reload, logger) : undefined;

  return {
    url,
    port,
    ...(health ? { healthPort: (health.addr as Deno.NetAddr).port } : {}),
    token,
    caPem: ca.certificatePem,
    reload,
    async stop() {
      ready = false;
      watcher?.close();
      // No new connections; watches end at their next event, as when kube-apiserver ends
      // them, so clients re-watch rather than see a broken stream; other requests get
      // STOP_GRACE_MS to finish.
      const shutdown = server.shutdown(STOP_GRACE_MS);
      stopping.abort();
      const cut = await shutdown;
      await health?.shutdown();
      for (const upstream of clusters.upstreams.values()) upstream.close();
      logger.info("proxy stopped", { cut });
    },
  };
}

/**
 * Reloads when the config's folder changes. ConfigMap volumes swap a `..data` symlink rather
 * than writing the file, so the folder is watched, and events are debounced.
 */
function watchConfig(path: string, reload: () => Promise<void>, logger: Logger): { close(): void } {
  let watcher: Deno.FsWatcher;
  try {
    watcher = Deno.watchFs(dirname(path), { recursive: false });
  } catch (error) {
    logger.warn("cannot watch the config folder; changes need a restart", {
      path,
      error: (error as Error).message,
    });
    return { close() {} };
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  (async () => {
    for await (const event of watcher) {
      // Reading the file is an event too, and the folder may hold other files (logs): only
      // changes to the file, or the ConfigMap's "..data" swap, count.
      if (event.kind === "access" || event.kind === "other") continue;
      if (
        !event.paths.some((p) =>
          p === path || basename(p) === basename(path) || basename(p).startsWith("..data")
        )
      ) {
        continue;
      }
      clearTimeout(timer);
      timer = setTimeout(() => void reload(), 200);
    }
  })().catch(() => {});
  return {
    close() {
      clearTimeout(timer);
      watcher.close();
    },
  };
}
