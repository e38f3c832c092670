import { assert, assertEquals, assertThrows } from "../_utils/assert.ts";
import { resolveWebhookOptions, webhookConfiguration } from "../../src/webhook/mod.ts";

Deno.test("webhookConfiguration() matches opted-in pods on CREATE only, never in system namespaces", () => {
  const config = webhookConfiguration({
    name: "mca",
    namespace: "mca-system",
    endpoint: { service: { namespace: "mca-system", name: "mca-webhook", port: 443 } },
    caBundlePem: "PEM",
    failurePolicy: "Fail",
    // deno-lint-ignore no-explicit-any
  }) as { webhooks: Record<string, any>[] };
  assertEquals(config.webhooks.map((w) => w.name), ["pods.mca.k8s.io", "namespaces.mca.k8s.io"]);
  for (const webhook of config.webhooks) {
    assertEquals(webhook.rules[0].operations, ["CREATE"]);
    assert(webhook.timeoutSeconds <= 10);
    assertEquals(webhook.reinvocationPolicy, "IfNeeded");
    assertEquals(webhook.sideEffects, "None");
    assertEquals(webhook.clientConfig.caBundle, btoa("PEM"));
    const excluded = webhook.namespaceSelector.matchExpressions[0];
    assertEquals(excluded.operator, "NotIn");
    assertEquals(excluded.values, ["kube-system", "kube-public", "kube-node-lease", "mca-system"]);
  }
  assertEquals(config.webhooks[0]!.objectSelector, {
    matchLabels: { "mca.k8s.io/inject": "true" },
  });
  assertEquals(config.webhooks[1]!.namespaceSelector.matchLabels, {
    "mca.k8s.io/inject": "enabled",
  });
  assertEquals(config.webhooks[0]!.clientConfig.service.path, "/mutate");
  assertEquals(config.webhooks[1]!.clientConfig.service.path, "/mutate-namespace");
});

Deno.test("resolveWebhookOptions() derives certificate names from the Service or the URL", () => {
  const inCluster = resolveWebhookOptions(
    {},
    (name) => name === "POD_NAMESPACE" ? "tools" : undefined,
  );
  assertEquals(inCluster.namespace, "tools");
  assertEquals(inCluster.dnsNames, [
    "mca-webhook",
    "mca-webhook.tools",
    "mca-webhook.tools.svc",
    "mca-webhook.tools.svc.cluster.local",
  ]);
  const dev = resolveWebhookOptions({
    url: "https://127.0.0.1:9443/",
    listen: "127.0.0.1:9443",
    proxyLogLevel: "debug",
  });
  assertEquals(dev.endpoint, { url: "https://127.0.0.1:9443" });
  assertEquals(dev.ipAddresses, ["127.0.0.1"]);
  assertEquals(dev.listen, { hostname: "127.0.0.1", port: 9443 });
  assertEquals(dev.inject, { logLevel: "debug" });
  assertEquals(dev.logLevel, "info");
});

Deno.test("resolveWebhookOptions() rejects bad values with the flag's name", () => {
  assertThrows(() => resolveWebhookOptions({ url: "http://x" }), Error, "Invalid --url");
  assertThrows(() => resolveWebhookOptions({ listen: "nope" }), Error, "Invalid --listen");
  assertThrows(
    () => resolveWebhookOptions({ certValidity: "soon" }),
    Error,
    "Invalid --cert-validity",
  );
  assertThrows(
    () => resolveWebhookOptions({ failurePolicy: "Maybe" }),
    Error,
    "Invalid --failure-policy",
  );
  assertThrows(
    () => resolveWebhookOptions({ shutdownDelay: "soon" }),
    Error,
    "Invalid --shutdown-delay",
  );
  assertEquals(resolveWebhookOptions({}).shutdownDelayMs, 0);
  assertEquals(resolveWebhookOptions({ shutdownDelay: "5s" }).shutdownDelayMs, 5_000);
});
