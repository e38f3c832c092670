/** The proxy's metrics (never with secrets or object names as labels). */
import type { Counter, Gauge, Histogram, MetricsRegistry } from "../metrics/mod.ts";

/** Counters, gauges and histograms the handler updates. */
export interface ProxyMetrics {
  requests: Counter;
  upstreamSeconds: Histogram;
  openWatches: Gauge;
  openUpgrades: Gauge;
  lookups: Counter;
  configReloads: Counter;
}

/** Registers the proxy's metrics. */
export function createProxyMetrics(registry: MetricsRegistry): ProxyMetrics {
  return {
    requests: registry.counter(
      "mca_proxy_requests_total",
      "Requests by cluster, verb and HTTP code",
    ),
    upstreamSeconds: registry.histogram(
      "mca_proxy_upstream_duration_seconds",
      "Time to response headers, by cluster",
    ),
    openWatches: registry.gauge("mca_proxy_open_watches", "Watches being streamed, by cluster"),
    openUpgrades: registry.gauge(
      "mca_proxy_open_upgrades",
      "Upgraded connections (exec, attach, port-forward), by cluster",
    ),
    lookups: registry.counter(
      "mca_proxy_owner_lookups_total",
      "Owner lookups by result (index, found, missing, ambiguous)",
    ),
    configReloads: registry.counter("mca_proxy_config_reloads_total", "Config reloads by result"),
  };
}
