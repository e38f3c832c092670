import { assertEquals, assertThrows } from "../_utils/assert.ts";
import { resolveHubOptions } from "../../src/hub/mod.ts";

Deno.test("resolveHubOptions() reads --cert-validity as a duration, a year unless given", () => {
  assertEquals(resolveHubOptions({}).certValidityMs, 365 * 86_400_000);
  assertEquals(resolveHubOptions({ certValidity: "90d" }).certValidityMs, 90 * 86_400_000);
  assertEquals(resolveHubOptions({ certValidity: "1h30m" }).certValidityMs, 5_400_000);
  assertThrows(
    () => resolveHubOptions({ certValidity: "a year" }),
    Error,
    'Invalid --cert-validity "a year"',
  );
  assertThrows(() => resolveHubOptions({ certValidity: "0s" }), Error, "longer than zero");
});

Deno.test("resolveHubOptions() serves the aggregated entrance only when asked, with the chart's APIService", () => {
  assertEquals(resolveHubOptions({}).aggregatedApi, undefined);
  assertEquals(resolveHubOptions({ aggregatedApi: true }).aggregatedApi, {
    apiService: "v1alpha1.proxy.mca.k8s.io",
  });
  assertEquals(resolveHubOptions({ aggregatedApi: true, apiService: "" }).aggregatedApi, {
    apiService: "",
  });
});

Deno.test("resolveHubOptions() reads --agent-auth-concurrency as a whole number of at least 1", () => {
  assertEquals(resolveHubOptions({}).agentAuthConcurrency, 16);
  assertEquals(resolveHubOptions({ agentAuthConcurrency: "64" }).agentAuthConcurrency, 64);
  for (const bad of ["0", "-3", "1.5", "many", ""]) {
    assertThrows(
      () => resolveHubOptions({ agentAuthConcurrency: bad }),
      Error,
      `Invalid --agent-auth-concurrency "${bad}"`,
    );
  }
});

Deno.test("resolveHubOptions() reads --max-requests-per-caller: 100 unless given, 0 for no limit", () => {
  assertEquals(resolveHubOptions({}).maxRequestsPerCaller, 100);
  assertEquals(resolveHubOptions({ maxRequestsPerCaller: "0" }).maxRequestsPerCaller, 0);
  assertThrows(
    () => resolveHubOptions({ maxRequestsPerCaller: "-1" }),
    Error,
    'Invalid --max-requests-per-caller "-1": a whole number of at least 0 is expected',
  );
});

Deno.test("resolveHubOptions() reads --shutdown-delay: none unless given, 0 in any unit, a duration otherwise", () => {
  assertEquals(resolveHubOptions({}).shutdownDelayMs, 0);
  for (const zero of ["0", "0s", "0ms", "00m"]) {
    assertEquals(resolveHubOptions({ shutdownDelay: zero }).shutdownDelayMs, 0, zero);
  }
  assertEquals(resolveHubOptions({ shutdownDelay: "5s" }).shutdownDelayMs, 5_000);
  assertEquals(resolveHubOptions({ shutdownDelay: "1m30s" }).shutdownDelayMs, 90_000);
  for (const bad of ["-5s", "5", "soon", "", "0x"]) {
    assertThrows(
      () => resolveHubOptions({ shutdownDelay: bad }),
      Error,
      `Invalid --shutdown-delay "${bad}"`,
    );
  }
});
