/**
 * The proxy's health listener (on the pod IP, for the kubelet's probes): /healthz, /readyz,
 * /metrics. A plain fetch handler: three GET routes do not need a router, and the sidecar runs
 * in every pod, so it loads no HTTP framework (Hono's resident memory, docs/benchmarks.md).
 */
import type { MetricsRegistry } from "../metrics/mod.ts";

/** Builds the health handler; ready once the API listener is up and the app's credentials are written. */
export function createHealthHandler(
  deps: { isReady: () => boolean; metrics: MetricsRegistry },
): (request: Request) => Response {
  const text = (body: string, status = 200, contentType = "text/plain; charset=UTF-8") =>
    new Response(body, { status, headers: { "content-type": contentType } });
  return (request) => {
    const path = new URL(request.url).pathname;
    if (request.method !== "GET" && request.method !== "HEAD") {
      return text("Method Not Allowed", 405);
    }
    if (path === "/healthz") return text("ok");
    if (path === "/readyz") return deps.isReady() ? text("ok") : text("not ready", 503);
    if (path === "/metrics") {
      return text(deps.metrics.render(), 200, "text/plain; version=0.0.4");
    }
    return text("404 Not Found", 404);
  };
}
