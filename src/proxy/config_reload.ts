/**
 * Applying a changed config file to a running proxy: a new config and new upstreams replace the
 * old ones only when both are good; the config's folder is watched for changes.
 */
import { basename, dirname } from "node:path";
import type { Logger } from "../log/mod.ts";
import {
  buildUpstreams,
  type ClusterUpstreams,
  type InClusterSource,
} from "./cluster_upstreams.ts";
import { loadProxyConfig } from "./load_proxy_config.ts";
import type { ProxyConfig } from "./proxy_config.ts";
import type { ProxyMetrics } from "./proxy_metrics.ts";
import type { ResolvedProxyOptions } from "./proxy_options.ts";

/** The config in force and its upstreams; the handler reads both per request. */
export interface ProxyState {
  config: ProxyConfig;
  clusters: ClusterUpstreams;
}

/** What loading a config and its upstreams needs. */
export interface LoadOptions {
  inCluster: InClusterSource;
  logger: Logger;
}

/** Loads the config and builds its upstreams; an invalid config or an unusable cluster throws. */
export async function loadProxyState(
  options: ResolvedProxyOptions,
  load: LoadOptions,
): Promise<ProxyState> {
  const config = await loadProxyConfig(options);
  const clusters = await buildUpstreams(config, load);
  return { config, clusters };
}

/**
 * A function that applies the config file again when its text changed. A bad config never
 * replaces a good one: the failure is logged and counted, and the last good config stays.
 */
export async function createReloader(
  options: ResolvedProxyOptions,
  state: ProxyState,
  deps: LoadOptions & { metrics: ProxyMetrics },
): Promise<() => Promise<void>> {
  const { logger, metrics } = deps;
  const readConfigText = () =>
    options.configPath ? Deno.readTextFile(options.configPath).catch(() => "") : "";
  let appliedText = await readConfigText();
  return async () => {
    try {
      const text = await readConfigText();
      if (text === appliedText) return;
      appliedText = text;
      const next = await loadProxyState(options, deps);
      const old = state.clusters;
      Object.assign(state, next);
      for (const upstream of old.upstreams.values()) upstream.close();
      metrics.configReloads.inc({ result: "ok" });
      logger.info("config reloaded", {
        clusters: Object.keys(next.config.clusters),
        routes: next.config.routes.length,
      });
    } catch (error) {
      metrics.configReloads.inc({ result: "error" });
      logger.error("config reload failed; keeping the last good config", {
        error: (error as Error).message,
      });
    }
  };
}

/**
 * Reloads when the config's folder changes. ConfigMap volumes swap a `..data` symlink rather
 * than writing the file, so the folder is watched, and events are debounced.
 */
export function watchConfig(
  path: string,
  reload: () => Promise<void>,
  logger: Logger,
): { close(): void } {
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
      if (!isConfigChange(event, path)) continue;
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

/**
 * Reading the file is an event too, and the folder may hold other files (logs): only changes to
 * the file, or the ConfigMap's "..data" swap, count.
 */
function isConfigChange(event: Deno.FsEvent, path: string): boolean {
  if (event.kind === "access" || event.kind === "other") return false;
  return event.paths.some((p) =>
    p === path || basename(p) === basename(path) || basename(p).startsWith("..data")
  );
}
