/** `mca check` flags: the defaults are the chart's and `mca webhook`/`mca hub`'s names. */
import { assertEquals, assertThrows } from "../_utils/assert.ts";
import { CHECK_DEFAULTS, resolveCheckOptions } from "../../src/check/mod.ts";
import { HUB_DEFAULTS } from "../../src/hub/hub_options.ts";
import { WEBHOOK_DEFAULTS } from "../../src/webhook/webhook_options.ts";

Deno.test("resolveCheckOptions() defaults to the names mca webhook and mca hub use", () => {
  assertEquals(resolveCheckOptions({}), {
    namespace: HUB_DEFAULTS.namespace,
    hubService: { name: "mca-hub", port: 443 },
    webhookConfiguration: WEBHOOK_DEFAULTS.configurationName,
    webhookCaSecret: WEBHOOK_DEFAULTS.caSecret,
    hubCaSecret: HUB_DEFAULTS.caSecret,
    output: "text",
  });
  assertEquals(CHECK_DEFAULTS.namespace, WEBHOOK_DEFAULTS.namespace);
});

Deno.test("resolveCheckOptions() takes the flags and refuses a hub that is not https", () => {
  const resolved = resolveCheckOptions({
    kubeconfig: "k",
    context: "host",
    namespace: "ns",
    hub: "https://hub.example.com:9443/",
    output: "json",
  });
  assertEquals(resolved.hubUrl, "https://hub.example.com:9443");
  assertEquals([resolved.kubeconfig, resolved.context, resolved.namespace], ["k", "host", "ns"]);
  assertThrows(() => resolveCheckOptions({ hub: "http://hub:80" }), Error, 'Invalid --hub "http');
  assertThrows(() => resolveCheckOptions({ output: "yaml" }), Error, 'Invalid --output "yaml"');
});
