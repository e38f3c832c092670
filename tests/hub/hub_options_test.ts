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
