import { assert, assertEquals, assertStringIncludes } from "../_utils/assert.ts";
import { applyJsonPatch, injectPodTemplate, type PodTemplate } from "../../src/inject/mod.ts";
import { createWebhookApp } from "../../src/webhook/mod.ts";
import { podReview as review } from "../_utils/admission_review.ts";

const pod = (labels: Record<string, string>, spec: Record<string, unknown> = {}): PodTemplate => ({
  metadata: { name: "p", namespace: "apps", labels },
  spec: { containers: [{ name: "app", image: "app:1" }], ...spec },
});

async function post(app: ReturnType<typeof createWebhookApp>, path: string, body: unknown) {
  const response = await app.request(path, {
    method: "POST",
    body: typeof body === "string" ? body : JSON.stringify(body),
    headers: { "Content-Type": "application/json" },
  });
  return { status: response.status, body: await response.json() };
}

function decodePatch(response: { patch?: string }): unknown[] {
  return response.patch ? JSON.parse(atob(response.patch)) : [];
}

Deno.test("/mutate injects an opted-in pod with a JSONPatch that yields the injected pod", async () => {
  const app = createWebhookApp({ inject: { image: "mca:test" } });
  const input = pod({ "mca.k8s.io/inject": "true" });
  const { status, body } = await post(app, "/mutate", review(input));
  assertEquals(status, 200);
  assertEquals(body.apiVersion, "admission.k8s.io/v1");
  assertEquals(body.response.uid, "uid-1");
  assertEquals(body.response.allowed, true);
  assertEquals(body.response.patchType, "JSONPatch");
  const expected = injectPodTemplate(input, { image: "mca:test" });
  assert(expected.injected);
  assertEquals(applyJsonPatch(input, decodePatch(body.response) as never), expected.template);
  // A minimal patch: a handful of operations, not a replacement of /spec.
  assert(decodePatch(body.response).length < 10);
  assert(!decodePatch(body.response).some((op) => (op as { path: string }).path === "/spec"));
});

Deno.test("/mutate allows pods that are not opted in, unchanged", async () => {
  const app = createWebhookApp();
  for (const labels of [{}, { "mca.k8s.io/inject": "false" }, { "mca.k8s.io/inject": "yes" }]) {
    const { body } = await post(app, "/mutate", review(pod(labels)));
    assertEquals(body.response, { uid: "uid-1", allowed: true });
  }
});

Deno.test("/mutate-namespace injects unlabelled pods of opted-in namespaces, but not opted-out ones", async () => {
  const app = createWebhookApp();
  const injected = await post(app, "/mutate-namespace", review(pod({})));
  assertEquals(injected.body.response.patchType, "JSONPatch");
  const optedOut = await post(
    app,
    "/mutate-namespace",
    review(pod({ "mca.k8s.io/inject": "false" })),
  );
  assertEquals(optedOut.body.response.patch, undefined);
});

Deno.test("/mutate refuses an opted-in pod that cannot be injected, naming the reason", async () => {
  const app = createWebhookApp();
  const { body } = await post(
    app,
    "/mutate",
    review(pod({ "mca.k8s.io/inject": "true" }, { hostNetwork: true })),
  );
  assertEquals(body.response.allowed, false);
  assertEquals(body.response.status.code, 400);
  assertStringIncludes(
    body.response.status.message,
    `mca cannot inject its sidecar into pod "p": hostNetwork`,
  );
});

Deno.test("/mutate answers an unexpected error with HTTP 500 and a plain message, so the API server applies the failurePolicy", async () => {
  const broken = {
    get image(): string {
      throw new TypeError("Cannot read properties of undefined");
    },
  };
  const cases: Array<[string, Parameters<typeof createWebhookApp>[0], unknown]> = [
    [
      "while resolving the sidecar's settings",
      { inject: broken },
      pod({ "mca.k8s.io/inject": "true" }),
    ],
    ["while injecting", {}, pod({ "mca.k8s.io/inject": "true" }, { containers: [null] })],
  ];
  for (const [when, deps, object] of cases) {
    const app = createWebhookApp(deps);
    const response = await app.request("/mutate", {
      method: "POST",
      body: JSON.stringify(review(object)),
      headers: { "Content-Type": "application/json" },
    });
    assertEquals(response.status, 500, when);
    assertStringIncludes(response.headers.get("Content-Type") ?? "", "text/plain", when);
    assertEquals(
      await response.text(),
      "Internal error: the webhook could not decide this admission",
      when,
    );
  }
  // An opted-in pod with a bad annotation is still refused, in an AdmissionResponse.
  const loud = pod({ "mca.k8s.io/inject": "true" });
  loud.metadata = { ...loud.metadata, annotations: { "mca.k8s.io/log-level": "loud" } };
  const refused = await post(createWebhookApp(), "/mutate", review(loud));
  assertEquals(refused.status, 200);
  assertEquals(refused.body.response.allowed, false);
  assertStringIncludes(refused.body.response.status.message, 'Invalid mca.k8s.io/log-level "loud"');
});

Deno.test("/mutate answers v1beta1 reviews in v1beta1 and ignores other operations", async () => {
  const app = createWebhookApp();
  const beta = await post(
    app,
    "/mutate",
    review(pod({ "mca.k8s.io/inject": "true" }), {}, "admission.k8s.io/v1beta1"),
  );
  assertEquals(beta.body.apiVersion, "admission.k8s.io/v1beta1");
  assertEquals(beta.body.response.patchType, "JSONPatch");
  const update = await post(
    app,
    "/mutate",
    review(pod({ "mca.k8s.io/inject": "true" }), { operation: "UPDATE" }),
  );
  assertEquals(update.body.response, { uid: "uid-1", allowed: true });
});

const malformed: [string, unknown, string][] = [
  ["not JSON", "{nope", "the body is not JSON"],
  ["not a review", { kind: "Pod" }, `kind is "Pod", not AdmissionReview`],
  [
    "an unknown version",
    { kind: "AdmissionReview", apiVersion: "admission.k8s.io/v2" },
    "apiVersion",
  ],
  [
    "no request",
    { kind: "AdmissionReview", apiVersion: "admission.k8s.io/v1" },
    "request is missing",
  ],
  [
    "no uid",
    { ...review(pod({})), request: { kind: {}, resource: {}, operation: "CREATE" } },
    "request.uid is missing",
  ],
];

for (const [what, body, message] of malformed) {
  Deno.test(`/mutate answers ${what} with HTTP 400 and a clear message`, async () => {
    const app = createWebhookApp();
    const response = await post(app, "/mutate", body);
    assertEquals(response.status, 400);
    assertStringIncludes(response.body.error, message);
  });
}

Deno.test("/mutate refuses a body over the limit with 413", async () => {
  const app = createWebhookApp({ maxBodyBytes: 1024 });
  const big = review({ ...pod({ "mca.k8s.io/inject": "true" }), padding: "x".repeat(4096) });
  const response = await post(app, "/mutate", big);
  assertEquals(response.status, 413);
});

Deno.test("/metrics counts requests, decisions by outcome and reason, and latency", async () => {
  const app = createWebhookApp();
  await post(app, "/mutate", review(pod({ "mca.k8s.io/inject": "true" })));
  await post(app, "/mutate", review(pod({ "mca.k8s.io/inject": "true" }, { hostNetwork: true })));
  await post(app, "/mutate", "garbage");
  const text = await (await app.request("/metrics")).text();
  assertStringIncludes(text, 'mca_webhook_admissions_total{outcome="injected",reason=""} 1');
  assertStringIncludes(
    text,
    'mca_webhook_admissions_total{outcome="refused",reason="host-network"} 1',
  );
  assertStringIncludes(text, 'mca_webhook_errors_total{kind="malformed"} 1');
  assertStringIncludes(text, 'mca_webhook_requests_total{code="200"} 2');
  assertStringIncludes(text, "mca_webhook_admission_duration_seconds_count 2");
});

Deno.test("/readyz follows readiness; /healthz is always ok", async () => {
  let ready = false;
  const app = createWebhookApp({ isReady: () => ready });
  assertEquals((await app.request("/readyz")).status, 503);
  assertEquals((await app.request("/healthz")).status, 200);
  ready = true;
  assertEquals((await app.request("/readyz")).status, 200);
});
