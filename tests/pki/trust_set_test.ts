import { assert, assertEquals, assertRejects } from "../_utils/assert.ts";
import {
  computeCaPin,
  continuesTrust,
  createCertificateAuthority,
  holdsEveryPin,
  issueCertificate,
  MAX_TRUSTED_CAS,
  sameTrustSet,
  trustBundle,
  trustPins,
  trustSetOf,
} from "../../src/pki/mod.ts";

const a = await createCertificateAuthority({ commonName: "a" });
const b = await createCertificateAuthority({ commonName: "b" });
const c = await createCertificateAuthority({ commonName: "c" });
const pinA = await computeCaPin(a.certificatePem);
const pinB = await computeCaPin(b.certificatePem);

Deno.test("trustSetOf() splits a bundle into CAs with their own pins, once each, in order", async () => {
  const set = await trustSetOf(a.certificatePem + b.certificatePem + a.certificatePem);
  assertEquals(trustPins(set), [pinA, pinB]);
  // The bundle round-trips: what the agent stores is what it trusts after a restart.
  assertEquals(trustPins(await trustSetOf(trustBundle(set))), [pinA, pinB]);
});

Deno.test("trustSetOf() refuses a leaf certificate, an empty text and too many CAs", async () => {
  const leaf = await issueCertificate(a, { commonName: "hub", dnsNames: ["hub"] });
  await assertRejects(() => trustSetOf(leaf.certificatePem), Error, "is not a CA certificate");
  await assertRejects(() => trustSetOf("nothing here"), Error, "no certificate");
  const many = await Promise.all(
    Array.from({ length: MAX_TRUSTED_CAS + 1 }, () => createCertificateAuthority()),
  );
  await assertRejects(
    () => trustSetOf(many.map((ca) => ca.certificatePem).join("")),
    Error,
    "at most",
  );
});

Deno.test("continuesTrust() accepts a set keeping one trusted CA and refuses a disjoint one", async () => {
  const held = await trustSetOf(a.certificatePem);
  const prepared = await trustSetOf(a.certificatePem + b.certificatePem);
  const finished = await trustSetOf(b.certificatePem);
  assert(continuesTrust(held, prepared), "current + next after current");
  assert(continuesTrust(prepared, finished), "next alone after current + next");
  assert(!continuesTrust(held, finished), "a jump to a CA never announced");
  assert(!continuesTrust(held, await trustSetOf(c.certificatePem)));
  assert(sameTrustSet(prepared, await trustSetOf(b.certificatePem + a.certificatePem)));
  assert(!sameTrustSet(prepared, held));
});

Deno.test("holdsEveryPin() is true only when every wanted pin is held", () => {
  assert(holdsEveryPin([pinA, pinB], [pinB, pinA]));
  assert(!holdsEveryPin([pinA], [pinA, pinB]));
  assert(holdsEveryPin([pinA, pinB], [pinB]));
});
