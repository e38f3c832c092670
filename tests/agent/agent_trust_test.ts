import { assert, assertEquals, assertRejects } from "../_utils/assert.ts";
import { AgentTrust, type LearnedTrust, type TrustStore } from "../../src/agent/agent_trust.ts";
import { createLogger } from "../../src/log/mod.ts";
import { computeCaPin, createCertificateAuthority } from "../../src/pki/mod.ts";

const logger = createLogger({ level: "error", format: "text" });
const a = await createCertificateAuthority({ commonName: "a" });
const b = await createCertificateAuthority({ commonName: "b" });
const c = await createCertificateAuthority({ commonName: "c" });
const pinned = {
  certificatePem: a.certificatePem,
  pin: await computeCaPin(a.certificatePem),
  source: "hub-ca.crt",
};
const pinB = await computeCaPin(b.certificatePem);

/** A store in memory; `failWrites` stands for missing RBAC on the Secret. */
function memoryStore(initial?: LearnedTrust, failWrites = false) {
  const store = {
    learned: initial,
    read: () => Promise.resolve(store.learned),
    write(learned: LearnedTrust) {
      if (failWrites) return Promise.reject(new Error("forbidden"));
      store.learned = learned;
      return Promise.resolve();
    },
  };
  return store satisfies TrustStore;
}

Deno.test("AgentTrust refuses a CA file that does not match the pin", async () => {
  await assertRejects(
    () => AgentTrust.load({ ...pinned, certificatePem: b.certificatePem }, { logger }),
    Error,
    'The hub CA in "hub-ca.crt" does not match --hub-ca-pin',
  );
});

Deno.test("AgentTrust learns the next CA, stores it, and a restart trusts what it stored", async () => {
  const store = memoryStore();
  const trust = await AgentTrust.load(pinned, { store, logger });
  assertEquals(trust.pins, [pinned.pin]);
  await trust.learn([a.certificatePem, b.certificatePem], logger);
  assertEquals(trust.pins, [pinned.pin, pinB]);
  assert(trust.persisted);
  await trust.learn([b.certificatePem], logger);
  const restarted = await AgentTrust.load(pinned, { store, logger });
  assertEquals(restarted.pins, [pinB], "the old CA is no longer trusted after the finish");
});

Deno.test("AgentTrust refuses a set sharing no CA with its own and keeps what it had", async () => {
  const store = memoryStore();
  const trust = await AgentTrust.load(pinned, { store, logger });
  await assertRejects(() => trust.learn([c.certificatePem], logger), Error, "share none");
  assertEquals(trust.pins, [pinned.pin]);
  assertEquals(store.learned, undefined);
});

Deno.test("AgentTrust ignores a learned set of an earlier install (another pin)", async () => {
  const store = memoryStore({ bundlePem: b.certificatePem, basisPin: pinB });
  const trust = await AgentTrust.load(pinned, { store, logger });
  assertEquals(trust.pins, [pinned.pin]);
});

Deno.test("AgentTrust reports a set it could not store as not persisted", async () => {
  const trust = await AgentTrust.load(pinned, { store: memoryStore(undefined, true), logger });
  await trust.learn([a.certificatePem, b.certificatePem], logger);
  assertEquals(trust.pins, [pinned.pin, pinB], "the running agent still follows the rollover");
  assert(!trust.persisted, "the hub must not count it as ready to switch");
});
