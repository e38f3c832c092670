import { createMetricsRegistry, registerProcessMetrics } from "../../src/metrics/mod.ts";
import { assert, assertEquals } from "../_utils/assert.ts";

function fakeSource(overrides: { openFds?: number | undefined } = {}) {
  let cpu = 1.5;
  return {
    residentMemoryBytes: () => 1234,
    cpuSeconds: () => cpu += 0.25,
    openFds: () => "openFds" in overrides ? overrides.openFds : 17,
    startTimeSeconds: 1700000000.5,
    eventLoopLagSeconds: () => 0.003,
    build: { version: "1.2.3", deno: "2.9.6", arch: "x86_64" },
  };
}

Deno.test("registerProcessMetrics() renders build info and process metrics read at scrape time", () => {
  const registry = createMetricsRegistry();
  registerProcessMetrics(registry, fakeSource());
  const first = registry.render();
  for (
    const line of [
      "# TYPE mca_build_info gauge",
      'mca_build_info{version="1.2.3",deno="2.9.6",arch="x86_64"} 1',
      "# TYPE process_resident_memory_bytes gauge",
      "process_resident_memory_bytes 1234",
      "# TYPE process_cpu_seconds_total counter",
      "process_cpu_seconds_total 1.75",
      "process_open_fds 17",
      "process_start_time_seconds 1700000000.5",
      "# TYPE mca_event_loop_lag_seconds gauge",
      "mca_event_loop_lag_seconds 0.003",
    ]
  ) assert(first.includes(line + "\n"), `missing ${line} in\n${first}`);
  // Read again at the next scrape, not cached.
  assert(registry.render().includes("process_cpu_seconds_total 2\n"));
});

Deno.test("registerProcessMetrics() leaves out open fds where /proc is missing", () => {
  const registry = createMetricsRegistry();
  registerProcessMetrics(registry, fakeSource({ openFds: undefined }));
  const text = registry.render();
  assert(!/^process_open_fds /m.test(text), text);
});

Deno.test("registerProcessMetrics() reads the running process by default", () => {
  const registry = createMetricsRegistry();
  registerProcessMetrics(registry);
  const text = registry.render();
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1]);
  assert(value("process_resident_memory_bytes") > 1_000_000, text);
  assert(value("process_cpu_seconds_total") > 0, text);
  assert(value("process_open_fds") > 2, text);
  assert(Math.abs(value("process_start_time_seconds") - Date.now() / 1000) < 3600, text);
  assert(value("mca_event_loop_lag_seconds") >= 0, text);
  assert(
    new RegExp(
      `mca_build_info\\{version="[^"]+",deno="${Deno.version.deno}",arch="${Deno.build.arch}"\\} 1`,
    ).test(text),
    text,
  );
  assertEquals(text.match(/^# TYPE /gm)?.length, 6);
});
