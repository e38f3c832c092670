import { assert, assertEquals, assertRejects } from "../_utils/assert.ts";
import {
  createCertificateAuthority,
  issueCertificate,
  loadCertificateAuthority,
} from "../../src/pki/mod.ts";
import { x509 } from "../_utils/x509.ts";

Deno.test("createCertificateAuthority() makes a self-signed ECDSA P-256 CA that may sign", async () => {
  const ca = await createCertificateAuthority({ commonName: "unit-ca", validityDays: 10 });
  const certificate = new x509.X509Certificate(ca.certificatePem);
  assertEquals(certificate.subject, "CN=unit-ca");
  assertEquals(certificate.issuer, "CN=unit-ca");
  assertEquals((certificate.publicKey.algorithm as EcKeyAlgorithm).namedCurve, "P-256");
  assert(certificate.getExtension(x509.BasicConstraintsExtension)?.ca);
  const usages = certificate.getExtension(x509.KeyUsagesExtension)!.usages;
  assert(usages & x509.KeyUsageFlags.keyCertSign);
  assert(await certificate.verify({ signatureOnly: true }));
  const days = (certificate.notAfter.getTime() - Date.now()) / 86_400_000;
  assert(days > 9.9 && days <= 10, `validity ${days} days`);
  assert(ca.privateKeyPem.startsWith("-----BEGIN PRIVATE KEY-----"));
});

Deno.test("loadCertificateAuthority() reads PEM back and keeps signing for the same CA", async () => {
  const original = await createCertificateAuthority();
  const loaded = await loadCertificateAuthority(original.certificatePem, original.privateKeyPem);
  const leaf = await issueCertificate(loaded, { commonName: "after-reload" });
  const issuer = new x509.X509Certificate(original.certificate.der);
  assert(
    await new x509.X509Certificate(leaf.certificate.der).verify({
      publicKey: issuer.publicKey,
      signatureOnly: true,
    }),
  );
});

Deno.test("loadCertificateAuthority() refuses a key of another CA and a leaf certificate", async () => {
  const one = await createCertificateAuthority();
  const two = await createCertificateAuthority();
  await assertRejects(
    () => loadCertificateAuthority(one.certificatePem, two.privateKeyPem),
    Error,
    "the private key does not belong",
  );
  const leaf = await issueCertificate(one, { commonName: "leaf" });
  await assertRejects(
    () => loadCertificateAuthority(leaf.certificatePem, leaf.privateKeyPem),
    Error,
    "is not a CA certificate",
  );
  await assertRejects(
    () => loadCertificateAuthority("garbage", one.privateKeyPem),
    Error,
    "no PEM certificate",
  );
});

Deno.test("createCertificateAuthority() supports RSA keys for tools that need them", async () => {
  const ca = await createCertificateAuthority({ keyAlgorithm: "rsa-2048" });
  const leaf = await issueCertificate(ca, { commonName: "rsa-leaf", keyAlgorithm: "rsa-2048" });
  const certificate = new x509.X509Certificate(leaf.certificate.der);
  assertEquals(certificate.publicKey.algorithm.name, "RSASSA-PKCS1-v1_5");
  const issuer = new x509.X509Certificate(ca.certificate.der);
  assert(await certificate.verify({ publicKey: issuer.publicKey, signatureOnly: true }));
  const reloaded = await loadCertificateAuthority(ca.certificatePem, ca.privateKeyPem);
  assertEquals(reloaded.keyAlgorithm, "rsa-2048");
});
