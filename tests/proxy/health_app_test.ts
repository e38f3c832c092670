import { assertEquals, assertStringIncludes } from "../_utils/assert.ts";
import { createMetricsRegistry } from "../../src/metrics/mod.ts";
import { createHealthHandler } from "../../src/proxy/mod.ts";

const get = (path: string, method = "GET") => new Request(`http://pod:8081${path}`, { method });

Deno.test("health handler: liveness always, readiness follows the proxy, metrics in Prometheus text", async () => {
  let ready = false;
  const metrics = createMetricsRegistry();
  metrics.counter("mca_test_total", "A test counter.").inc({ cluster: "east" });
  const handle = createHealthHandler({ isReady: () => ready, metrics });

  assertEquals(handle(get("/healthz")).status, 200);
  const notReady = handle(get("/readyz"));
  assertEquals([notReady.status, await notReady.text()], [503, "not ready"]);
  ready = true;
  assertEquals(handle(get("/readyz")).status, 200);

  const scraped = handle(get("/metrics"));
  assertEquals(scraped.headers.get("content-type"), "text/plain; version=0.0.4");
  assertStringIncludes(await scraped.text(), 'mca_test_total{cluster="east"} 1');
});

Deno.test("health handler: unknown paths are 404, writes are 405", () => {
  const handle = createHealthHandler({
    isReady: () => true,
    metrics: createMetricsRegistry(),
  });
  assertEquals(handle(get("/nope")).status, 404);
  assertEquals(handle(get("/healthz", "POST")).status, 405);
});
