/** The checks over gathered facts: a healthy setup passes, and each fault fails (or warns) by name. */
import { assert, assertEquals, assertStringIncludes } from "../_utils/assert.ts";
import {
  type CheckFacts,
  type CheckResult,
  evaluateChecks,
  expiry,
  STALE_HEARTBEAT_MS,
} from "../../src/check/mod.ts";
import { certificate, changed, healthyFacts, HUB_CA_PEM, NOW, WEBHOOK_CA_PEM } from "./_facts.ts";

function only(results: CheckResult[], status: CheckResult["status"]): string[] {
  return results.filter((r) => r.status === status).map((r) => r.title);
}

Deno.test("evaluateChecks() passes a healthy setup, one line per check in section order", () => {
  const results = evaluateChecks(healthyFacts());
  assertEquals(only(results, "fail"), []);
  assertEquals(only(results, "warn"), []);
  assertEquals(only(results, "skip"), []);
  assertEquals([...new Set(results.map((r) => r.section))], [
    "kubernetes-api",
    "webhook",
    "hub",
    "clusters",
    "certificates",
    "access",
  ]);
  assertEquals(results.length, 1 + 5 + 4 + 2 + 4 + 4);
});

/** A broken fact and the one check it must fail, with words its detail must carry. */
const FAULTS: {
  name: string;
  breakIt: (facts: CheckFacts) => void;
  fails: string;
  detail: string;
}[] = [
  {
    name: "a caBundle without the webhook CA",
    breakIt: (f) => {
      for (const w of f.webhook!.configuration.ok ? f.webhook!.configuration.value.webhooks : []) {
        w.caBundle = ["-----BEGIN CERTIFICATE-----\nWFla\n-----END CERTIFICATE-----"];
      }
    },
    fails: 'the caBundle holds the CA in Secret "mca-system/mca-webhook-ca"',
    detail: 'the caBundle of "pods.mca.k8s.io", "namespaces.mca.k8s.io" does not hold that CA',
  },
  {
    name: "an empty caBundle",
    breakIt: (f) => {
      for (const w of f.webhook!.configuration.ok ? f.webhook!.configuration.value.webhooks : []) {
        w.caBundle = [];
      }
    },
    fails: 'the caBundle holds the CA in Secret "mca-system/mca-webhook-ca"',
    detail: "is empty",
  },
  {
    name: "a served certificate the caBundle does not verify",
    breakIt: (f) => {
      f.webhook!.served = changed(f.webhook!.served, {
        trusted: false,
        trustError: "SELF_SIGNED_CERT_IN_CHAIN",
      });
    },
    fails: "the caBundle verifies the certificate the webhook serves",
    detail: "SELF_SIGNED_CERT_IN_CHAIN",
  },
  {
    name: "a webhook that is not ready",
    breakIt: (f) => {
      f.webhook!.served = changed(f.webhook!.served, {
        answer: { status: 503, body: "not ready\n" },
      });
    },
    fails: "the webhook is ready",
    detail: "answered 503: not ready",
  },
  {
    name: "an API server that cannot call the webhook",
    breakIt: (f) => {
      f.webhook!.admission = {
        ran: false,
        namespace: "default",
        reason: "refused",
        message: 'Internal error occurred: failed calling webhook "pods.mca.k8s.io": x509',
      };
    },
    fails: "the API server calls the webhook",
    detail: "failed calling webhook",
  },
  {
    name: "a dry-run pod admitted without the sidecar",
    breakIt: (f) => void (f.webhook!.admission = { ran: true, namespace: "x", injected: false }),
    fails: "the API server calls the webhook",
    detail: "without the sidecar",
  },
  {
    name: "a missing configuration while the CA Secret exists",
    breakIt: (f) =>
      void (f.webhook!.configuration = { ok: false, reason: "not-found", message: "not found" }),
    fails: 'MutatingWebhookConfiguration "mca" exists',
    detail: "although Secret",
  },
  {
    name: "a hub that is not ready",
    breakIt: (f) => {
      f.hub!.served = changed(f.hub!.served, {
        answer: { status: 503, body: "not ready: cannot follow the agent tokens" },
      });
    },
    fails: "the hub is ready",
    detail: "cannot follow the agent tokens",
  },
  {
    name: "a hub out of reach both ways",
    breakIt: (f) => {
      f.hub!.served = { reached: false, address: "10.0.0.9:9443", reason: "ECONNREFUSED" };
      f.hub!.proxiedReadyz = { error: "503 no endpoints available" };
    },
    fails: "the hub is ready",
    detail: "ECONNREFUSED; service proxy: 503 no endpoints available",
  },
  {
    name: "a hub certificate of another CA",
    breakIt: (f) => {
      f.hub!.served = changed(f.hub!.served, {
        trusted: false,
        trustError: "ERR_TLS_CERT_ALTNAME_INVALID",
      });
    },
    fails: 'the hub\'s certificate chains to the CA in Secret "mca-system/mca-hub-ca"',
    detail: "ERR_TLS_CERT_ALTNAME_INVALID",
  },
  {
    name: "a named hub without its CA Secret",
    breakIt: (f) => void (f.hub!.ca = { ok: false, reason: "not-found", message: "not found" }),
    fails: 'the hub CA is in Secret "mca-system/mca-hub-ca"',
    detail: "not found",
  },
  {
    name: "a Cluster that never had an agent",
    breakIt: (f) => void (f.clusters = { ok: true, value: [{ name: "lonely" }] }),
    fails: 'cluster "lonely" is connected',
    detail: "no agent has ever connected",
  },
  {
    name: "a Cluster whose agents left",
    breakIt: (f) => {
      f.clusters = {
        ok: true,
        value: [{
          name: "east",
          connectedAgents: 0,
          connected: {
            status: "False",
            reason: "NoAgent",
            message: "No agent is connected",
            since: new Date(NOW.getTime() - 3 * 3_600_000),
          },
        }],
      };
    },
    fails: 'cluster "east" is connected',
    detail: "NoAgent for 3 hours: No agent is connected",
  },
  {
    name: "a Connected status the hub stopped renewing",
    breakIt: (f) => {
      const [east] = f.clusters!.ok ? f.clusters!.value : [];
      east!.lastHeartbeat = new Date(NOW.getTime() - STALE_HEARTBEAT_MS - 600_000);
    },
    fails: 'cluster "east" is connected',
    detail: "the hub last wrote it 12 minutes ago",
  },
  {
    name: "an expired hub CA",
    breakIt: (f) => {
      f.hub!.ca = {
        ok: true,
        value: { pem: "hub", certificate: certificate("CN=mca-hub-ca", 400, 365) },
      };
    },
    fails: "the hub CA is valid for 30 days or more",
    detail: "expired 35 days ago",
  },
  {
    name: "no right on clusters/proxy",
    breakIt: (f) =>
      void (f.access = [{ group: "mca.k8s.io", verb: "get", allowed: "some", clusters: [] }]),
    fails: "you may get clusters/proxy (mca.k8s.io)",
    detail: "on no Cluster",
  },
  {
    name: "no right on the aggregated entrance's group",
    breakIt: (f) =>
      void (f.access = [{ group: "proxy.mca.k8s.io", verb: "get", allowed: "some", clusters: [] }]),
    fails: "you may get clusters/proxy (proxy.mca.k8s.io)",
    detail: "on no Cluster",
  },
  {
    name: "an APIService the host's aggregator cannot reach",
    breakIt: (f) => {
      f.hub!.apiService = {
        ok: true,
        value: {
          name: "v1alpha1.proxy.mca.k8s.io",
          available: {
            status: "False",
            reason: "FailedDiscoveryCheck",
            message: "failing or missing response from https://10.0.0.9:8443",
          },
          caBundle: [HUB_CA_PEM],
        },
      };
    },
    fails: "the aggregated entrance (APIService v1alpha1.proxy.mca.k8s.io) is Available",
    detail: "FailedDiscoveryCheck: failing or missing response",
  },
];

for (const fault of FAULTS) {
  Deno.test(`evaluateChecks() fails only "${fault.fails}" for ${fault.name}`, () => {
    const facts = healthyFacts();
    fault.breakIt(facts);
    const results = evaluateChecks(facts, true);
    const failed = results.filter((r) => r.status === "fail");
    assertEquals(failed.map((r) => r.title), [fault.fails]);
    assertStringIncludes(failed[0]!.detail ?? "", fault.detail);
    assert(failed[0]!.hint, "a failure says what to do");
  });
}

Deno.test("evaluateChecks() stops after an unreachable API server, saying why the rest is skipped", () => {
  const facts = healthyFacts();
  facts.api = { server: "https://127.0.0.1:1", source: "ctx", error: "Connection refused" };
  const results = evaluateChecks(facts);
  assertEquals(results.map((r) => r.status), ["fail", "skip"]);
  assertStringIncludes(results[0]!.detail!, "Connection refused");
});

Deno.test("evaluateChecks() skips what is not installed, with the reason", () => {
  const facts = healthyFacts();
  const notFound = { ok: false, reason: "not-found", message: "not found" } as const;
  facts.webhook = { ...facts.webhook!, configuration: notFound, ca: notFound };
  delete facts.webhook.served;
  delete facts.webhook.admission;
  facts.hub = {
    caSecretName: "mca-hub-ca",
    ca: notFound,
    target: "Service mca-system/mca-hub:443",
  };
  facts.clusters = notFound;
  const results = evaluateChecks(facts);
  assertEquals(only(results, "fail"), []);
  assertEquals(only(results, "skip"), [
    "the webhook is installed",
    "the hub is installed",
    "the Cluster objects can be listed",
  ]);
  // No certificate lines for components that are not there.
  assertEquals(results.filter((r) => r.section === "certificates"), []);
});

Deno.test("evaluateChecks() skips the dialled checks when the webhook's endpoint is out of reach", () => {
  const facts = healthyFacts();
  facts.webhook!.served = { reached: false, address: "10.0.0.5:8443", reason: "timed out" };
  const results = evaluateChecks(facts);
  assertEquals(only(results, "fail"), []);
  assertEquals(only(results, "skip"), [
    "the caBundle verifies the certificate the webhook serves",
    "the webhook is ready",
  ]);
  assertEquals(results.find((r) => r.title === "the API server calls the webhook")?.status, "ok");
});

Deno.test("evaluateChecks() warns when rights cover some clusters only", () => {
  const facts = healthyFacts();
  facts.access = [{ group: "mca.k8s.io", verb: "create", allowed: "some", clusters: ["east"] }];
  const [access] = evaluateChecks(facts).filter((r) => r.section === "access");
  assertEquals(access?.status, "warn");
  assertEquals(access?.detail, 'only on "east"');
});

Deno.test("evaluateChecks() warns when the APIService's caBundle lacks the hub CA, skips without one", () => {
  const facts = healthyFacts();
  const service = facts.hub!.apiService!;
  if (!service.ok) throw new Error("the healthy facts have the APIService");
  service.value.caBundle = [WEBHOOK_CA_PEM];
  const line = (f: typeof facts) =>
    evaluateChecks(f).find((r) => r.title.startsWith("the aggregated entrance"));
  assertEquals(line(facts)?.status, "warn");
  assertStringIncludes(line(facts)?.detail ?? "", "does not hold the hub CA");
  facts.hub!.apiService = { ok: false, reason: "not-found", message: "not found" };
  assertEquals(line(facts)?.status, "skip");
  assertStringIncludes(line(facts)?.detail ?? "", "aggregatedApi is off");
});

Deno.test("expiry() warns under 30 days, fails once expired, and gives renewed certificates slack", () => {
  const table: [string, ReturnType<typeof certificate>, boolean, string][] = [
    ["a CA with 20 days left", certificate("CN=ca", 345, 365), false, "warn"],
    ["a CA with 40 days left", certificate("CN=ca", 325, 365), false, "ok"],
    ["an expired CA", certificate("CN=ca", 366, 365), false, "fail"],
    // The webhook's 30-day certificate is renewed with 10 days left: 20 days left is normal.
    ["a 30-day serving certificate with 20 days left", certificate("CN=s", 10, 30), true, "ok"],
    ["a 30-day serving certificate with 5 days left", certificate("CN=s", 25, 30), true, "warn"],
    [
      "a 365-day serving certificate with 20 days left",
      certificate("CN=s", 345, 365),
      true,
      "warn",
    ],
    ["an expired serving certificate", certificate("CN=s", 31, 30), true, "fail"],
  ];
  for (const [name, cert, renewed, status] of table) {
    assertEquals(expiry("x", cert, NOW, { renewed, hint: "h" }).status, status, name);
  }
});
