import { assert, assertEquals, assertNotEquals } from "../_utils/assert.ts";
import { ensureSharedCa } from "../../src/common/mod.ts";
import { KubeApiError, type KubeClient } from "../../src/kube/mod.ts";

type Secret = { metadata?: { resourceVersion?: string }; data?: Record<string, string> };

/** A KubeClient holding one Secret; `conflicts` makes the next writes lose a race. */
function fakeHost(options: { conflicts?: number } = {}) {
  let secret: Secret | undefined;
  let version = 0;
  let conflicts = options.conflicts ?? 0;
  const notFound = () =>
    new KubeApiError({
      kind: "Status",
      apiVersion: "v1",
      status: "Failure",
      code: 404,
      message: "",
    });
  const conflict = () =>
    new KubeApiError({
      kind: "Status",
      apiVersion: "v1",
      status: "Failure",
      code: 409,
      message: "",
    });
  const store = (body: Secret) => {
    secret = { ...body, metadata: { ...body.metadata, resourceVersion: String(++version) } };
    return secret;
  };
  const client = {
    get: () => secret ? Promise.resolve(secret) : Promise.reject(notFound()),
    create: (_path: string, body: Secret) => {
      if (conflicts-- > 0) {
        store(body);
        return Promise.reject(conflict());
      }
      return Promise.resolve(store(body));
    },
    replace: (_path: string, body: Secret) => Promise.resolve(store(body)),
  } as unknown as KubeClient;
  return { client, secret: () => secret };
}

const SPEC = { namespace: "mca-system", name: "mca-hub-ca", commonName: "mca-hub-ca" };

Deno.test("ensureSharedCa() creates the Secret once and then keeps its CA", async () => {
  const host = fakeHost();
  const first = await ensureSharedCa(host.client, SPEC);
  assertEquals(first.ca.certificate.subject.includes("mca-hub-ca"), true);
  assertEquals(first.bundlePem, first.ca.certificatePem);
  const again = await ensureSharedCa(host.client, SPEC);
  assertEquals(again.ca.certificatePem, first.ca.certificatePem);
  assertEquals(again.resourceVersion, first.resourceVersion);
});

Deno.test("ensureSharedCa() takes the CA of a replica that created the Secret first", async () => {
  const host = fakeHost({ conflicts: 1 });
  const shared = await ensureSharedCa(host.client, SPEC);
  assertEquals(
    shared.ca.certificatePem,
    atob(host.secret()?.data?.["ca.crt"] ?? ""),
  );
});

Deno.test("ensureSharedCa() rotates a CA near its end, keeping the old one in the bundle", async () => {
  const host = fakeHost();
  const first = await ensureSharedCa(host.client, { ...SPEC, validityDays: 10 });
  const later = new Date(Date.now() + 9 * 24 * 3600 * 1000);
  const rotated = await ensureSharedCa(host.client, { ...SPEC, now: () => later });
  assertNotEquals(rotated.ca.certificatePem, first.ca.certificatePem);
  assertEquals(rotated.bundlePem, rotated.ca.certificatePem + first.ca.certificatePem);
  assert(host.secret()?.data?.["previous-ca.crt"], "the previous CA is kept in the Secret");
});
