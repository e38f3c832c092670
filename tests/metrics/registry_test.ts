import { createMetricsRegistry } from "../../src/metrics/mod.ts";
import { assert, assertEquals } from "../_utils/assert.ts";

Deno.test("counters, gauges and histograms render in the Prometheus text format", () => {
  const registry = createMetricsRegistry();
  const requests = registry.counter("mca_test_requests_total", "Requests by code");
  const open = registry.gauge("mca_test_open", "Open things");
  const latency = registry.histogram("mca_test_seconds", "Latency", [0.1, 1]);
  requests.inc({ code: "200" });
  requests.inc({ code: "200" }, 2);
  requests.inc({ code: "503" });
  open.set(5);
  open.dec();
  latency.observe(0.05);
  latency.observe(0.5);
  latency.observe(3);
  assertEquals(requests.get({ code: "200" }), 3);
  assertEquals(open.get(), 4);
  const text = registry.render();
  for (
    const line of [
      "# HELP mca_test_requests_total Requests by code",
      "# TYPE mca_test_requests_total counter",
      'mca_test_requests_total{code="200"} 3',
      'mca_test_requests_total{code="503"} 1',
      "# TYPE mca_test_open gauge",
      "mca_test_open 4",
      "# TYPE mca_test_seconds histogram",
      'mca_test_seconds_bucket{le="0.1"} 1',
      'mca_test_seconds_bucket{le="1"} 2',
      'mca_test_seconds_bucket{le="+Inf"} 3',
      "mca_test_seconds_count 3",
    ]
  ) assert(text.split("\n").includes(line), `${line}\nnot in:\n${text}`);
});

Deno.test("label values are escaped as the text format requires", () => {
  const registry = createMetricsRegistry();
  registry.counter("mca_test_total", "Escapes").inc({ path: 'a"b\\c\nd' });
  assert(registry.render().includes('mca_test_total{path="a\\"b\\\\c\\nd"} 1'), registry.render());
});
