import { assertEquals, assertRejects, assertThrows } from "../_utils/assert.ts";
import {
  createCertificateAuthority,
  encodePem,
  importPrivateKeyPem,
  parseCertificatesPem,
  pemBlocks,
} from "../../src/pki/mod.ts";
import { x509 } from "../_utils/x509.ts";

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

Deno.test("encodePem() writes base64 lines of 64 characters, as other PEM writers do", () => {
  for (const size of [0, 1, 47, 48, 49, 300]) {
    const der = Uint8Array.from({ length: size }, (_, i) => (i * 37) & 0xff);
    const pem = encodePem(der, "CERTIFICATE");
    assertEquals(pem, x509.PemConverter.encode(der, "CERTIFICATE") + "\n", `size ${size}`);
    assertEquals(pemBlocks(pem)[0]?.der, der);
  }
  const lines = encodePem(new Uint8Array(300), "X").split("\n");
  assertEquals(lines.map((line) => line.length), [17, 64, 64, 64, 64, 64, 64, 16, 15, 0]);
});
