import { assertEquals, assertRejects, assertThrows } from "../_utils/assert.ts";
import {
  createCertificateAuthority,
  importPrivateKeyPem,
  parseCertificatesPem,
  pemBlocks,
} from "../../src/pki/mod.ts";

Deno.test("pemBlocks() splits a bundle and parseCertificatesPem() reads every certificate", async () => {
  const one = await createCertificateAuthority({ commonName: "one" });
  const two = await createCertificateAuthority({ commonName: "two" });
  const bundle = `# comment\n${one.certificatePem}\n${two.certificatePem}${one.privateKeyPem}`;
  assertEquals(pemBlocks(bundle).map((b) => b.label), [
    "CERTIFICATE",
    "CERTIFICATE",
    "PRIVATE KEY",
  ]);
  assertEquals(parseCertificatesPem(bundle).map((c) => c.subject), ["CN=one", "CN=two"]);
  assertThrows(() => parseCertificatesPem(one.privateKeyPem), Error, "no PEM certificate found");
});

Deno.test("importPrivateKeyPem() refuses non-PKCS#8 keys with a hint", async () => {
  const sec1 = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n-----END EC PRIVATE KEY-----\n";
  await assertRejects(() => importPrivateKeyPem(sec1, "ecdsa-p256"), Error, "convert it to PKCS#8");
  await assertRejects(
    () => importPrivateKeyPem("nothing", "ecdsa-p256"),
    Error,
    "no PEM block found",
  );
});
