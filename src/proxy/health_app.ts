/** The proxy's health listener (on the pod IP, for the kubelet's probes): /healthz, /readyz, /metrics. */
import { Hono } from "hono";
import type { MetricsRegistry } from "../metrics/mod.ts";

/** Builds the health app; ready once the API listener is up and the app's credentials are written. */
export function createHealthApp(deps: { isReady: () => boolean; metrics: MetricsRegistry }): Hono {
  const app = new Hono();
  app.get("/healthz", (c) => c.text("ok"));
  app.get("/readyz", (c) => deps.isReady() ? c.text("ok") : c.text("not ready", 503));
  app.get(
    "/metrics",
    (c) => c.text(deps.metrics.render(), 200, { "Content-Type": "text/plain; version=0.0.4" }),
  );
  return app;
}
