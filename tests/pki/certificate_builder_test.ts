/**
 * Certificates written by src/pki's own DER writer, read back by two independent parsers
 * (@peculiar/x509 and openssl) and verified by openssl.
 */
import { assert, assertEquals, assertStringIncludes } from "../_utils/assert.ts";
import { opensslSelfSigned } from "../_utils/openssl_certificate.ts";
import { runCommand } from "../_utils/run_command.ts";
import { tempDir } from "../_utils/temp_dir.ts";
import { x509 } from "../_utils/x509.ts";
import {
  createCertificateAuthority,
  issueCertificate,
  type KeyAlgorithm,
  loadCertificateAuthority,
} from "../../src/pki/mod.ts";

const ALGORITHMS: [KeyAlgorithm, string][] = [
  ["ecdsa-p256", "ecdsa-with-SHA256"],
  ["ecdsa-p384", "ecdsa-with-SHA384"],
  ["rsa-2048", "sha256WithRSAEncryption"],
];

async function openssl(args: string[]): Promise<string> {
  const result = await runCommand("openssl", args);
  assertEquals(result.code, 0, `openssl ${args.join(" ")}: ${result.stderr}`);
  return result.stdout;
}

/** openssl's text form with runs of whitespace made single spaces, to match across lines. */
async function opensslText(path: string): Promise<string> {
  return (await openssl(["x509", "-noout", "-text", "-in", path])).replace(/\s+/g, " ");
}

async function verifies(dir: string, caPem: string, leafPem: string): Promise<string> {
  await Deno.writeTextFile(`${dir}/ca.pem`, caPem);
  await Deno.writeTextFile(`${dir}/leaf.pem`, leafPem);
  // -x509_strict also checks RFC 5280 details (key identifiers, DER), -purpose the usages.
  return await openssl([
    "verify",
    "-x509_strict",
    "-purpose",
    "sslserver",
    "-CAfile",
    `${dir}/ca.pem`,
    `${dir}/leaf.pem`,
  ]);
}

for (const [algorithm, signatureName] of ALGORITHMS) {
  Deno.test(`createCertificateAuthority() writes a v3 CA openssl and x509 read alike (${algorithm})`, async () => {
    await using dir = await tempDir();
    const ca = await createCertificateAuthority({
      commonName: "builder-ca",
      validityDays: 10,
      keyAlgorithm: algorithm,
      notBefore: new Date("2030-01-01T00:00:00Z"),
    });
    const parsed = new x509.X509Certificate(ca.certificatePem);
    assertEquals(parsed.subject, "CN=builder-ca");
    assertEquals(parsed.issuer, "CN=builder-ca");
    assertEquals(parsed.notBefore.toISOString(), "2029-12-31T23:55:00.000Z");
    assertEquals(parsed.notAfter.toISOString(), "2030-01-11T00:00:00.000Z");
    assertEquals(parsed.notAfter, ca.certificate.notAfter);
    assert(await parsed.verify({ signatureOnly: true }), "self-signature");
    const serial = BigInt(`0x${parsed.serialNumber}`);
    assert(serial > 0n && parsed.serialNumber.length <= 40, `serial ${parsed.serialNumber}`);
    const constraints = parsed.getExtension(x509.BasicConstraintsExtension)!;
    assertEquals([constraints.ca, constraints.pathLength, constraints.critical], [true, 0, true]);
    const usages = parsed.getExtension(x509.KeyUsagesExtension)!;
    assertEquals(usages.critical, true);
    assertEquals(
      usages.usages,
      x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign |
        x509.KeyUsageFlags.digitalSignature,
    );
    const ski = parsed.getExtension(x509.SubjectKeyIdentifierExtension)!;
    const method1 = await x509.SubjectKeyIdentifierExtension.create(
      await parsed.publicKey.export(),
    );
    assertEquals([ski.keyId, ski.critical], [method1.keyId, false]);
    assertEquals(parsed.extensions.length, 3);

    await Deno.writeTextFile(`${dir.path}/ca.pem`, ca.certificatePem);
    const text = await opensslText(`${dir.path}/ca.pem`);
    assertStringIncludes(text, "Version: 3 (0x2)");
    assertStringIncludes(text, `Signature Algorithm: ${signatureName}`);
    assertStringIncludes(text, "Issuer: CN = builder-ca");
    assertStringIncludes(text, "Not Before: Dec 31 23:55:00 2029 GMT");
    assertStringIncludes(text, "Not After : Jan 11 00:00:00 2030 GMT");
    assertStringIncludes(text, "X509v3 Basic Constraints: critical CA:TRUE, pathlen:0");
    assertStringIncludes(
      text,
      "X509v3 Key Usage: critical Digital Signature, Certificate Sign, CRL Sign",
    );
    assertStringIncludes(text, "X509v3 Subject Key Identifier:");
    // Checked at a moment inside the validity set above.
    const at = String(Date.parse("2030-01-05T00:00:00Z") / 1000);
    const caPath = `${dir.path}/ca.pem`;
    assertEquals(
      (await openssl(["verify", "-x509_strict", "-attime", at, "-CAfile", caPath, caPath])).trim(),
      `${caPath}: OK`,
    );
  });

  Deno.test(`issueCertificate() writes a leaf openssl verifies against its CA (${algorithm})`, async () => {
    await using dir = await tempDir();
    const ca = await createCertificateAuthority({ keyAlgorithm: algorithm });
    const leaf = await issueCertificate(ca, {
      commonName: "alice",
      organizations: ["system:masters", "dev & ops"],
      dnsNames: ["localhost", "api.example"],
      ipAddresses: ["127.0.0.1", "::1", "2001:db8::ffff:10.0.0.1"],
      usages: ["server", "client"],
      keyAlgorithm: algorithm,
    });
    const parsed = new x509.X509Certificate(leaf.certificatePem);
    const issuer = new x509.X509Certificate(ca.certificatePem);
    assertEquals(parsed.subject, "CN=alice, O=system:masters, O=dev & ops");
    assertEquals(parsed.issuer, issuer.subject);
    assertEquals(
      new Uint8Array(parsed.issuerName.toArrayBuffer()),
      new Uint8Array(issuer.subjectName.toArrayBuffer()),
    );
    assert(await parsed.verify({ publicKey: issuer.publicKey, signatureOnly: true }), "signature");
    const constraints = parsed.getExtension(x509.BasicConstraintsExtension)!;
    assertEquals([constraints.ca, constraints.critical], [false, true]);
    const usages = parsed.getExtension(x509.KeyUsagesExtension)!;
    const rsa = algorithm.startsWith("rsa");
    assertEquals(
      [usages.usages, usages.critical],
      [
        x509.KeyUsageFlags.digitalSignature | (rsa ? x509.KeyUsageFlags.keyEncipherment : 0),
        true,
      ],
    );
    assertEquals([...parsed.getExtension(x509.ExtendedKeyUsageExtension)!.usages], [
      x509.ExtendedKeyUsage.serverAuth,
      x509.ExtendedKeyUsage.clientAuth,
    ]);
    const caKeyId = issuer.getExtension(x509.SubjectKeyIdentifierExtension)!.keyId;
    assertEquals(parsed.getExtension(x509.AuthorityKeyIdentifierExtension)!.keyId, caKeyId);
    const names = parsed.getExtension(x509.SubjectAlternativeNameExtension)!.names.toJSON();
    assertEquals(names.map((n) => `${n.type}:${n.value}`), [
      "dns:localhost",
      "dns:api.example",
      "ip:127.0.0.1",
      "ip:::1",
      "ip:2001:db8::ffff:a00:1",
    ]);
    assertEquals(parsed.extensions.length, 6);

    await Deno.writeTextFile(`${dir.path}/leaf.pem`, leaf.certificatePem);
    const text = await opensslText(`${dir.path}/leaf.pem`);
    assertStringIncludes(text, `Signature Algorithm: ${signatureName}`);
    assertStringIncludes(text, "Subject: CN = alice, O = system:masters, O = dev & ops");
    assertStringIncludes(text, "X509v3 Basic Constraints: critical CA:FALSE");
    assertStringIncludes(
      text,
      `X509v3 Key Usage: critical Digital Signature${rsa ? ", Key Encipherment" : ""} X509v3`,
    );
    assertStringIncludes(
      text,
      "X509v3 Extended Key Usage: TLS Web Server Authentication, TLS Web Client Authentication",
    );
    assertStringIncludes(
      text,
      "X509v3 Subject Alternative Name: DNS:localhost, DNS:api.example, IP Address:127.0.0.1, " +
        "IP Address:0:0:0:0:0:0:0:1, IP Address:2001:DB8:0:0:0:FFFF:A00:1",
    );
    assertEquals(
      (await verifies(dir.path, ca.certificatePem, leaf.certificatePem)).trim(),
      `${dir.path}/leaf.pem: OK`,
    );
  });
}

Deno.test("issueCertificate() leaves out subjectAltName when there are no names", async () => {
  const ca = await createCertificateAuthority();
  const leaf = await issueCertificate(ca, { commonName: "bob", usages: ["client"] });
  const parsed = new x509.X509Certificate(leaf.certificatePem);
  assertEquals(parsed.getExtension(x509.SubjectAlternativeNameExtension), null);
  assertEquals([...parsed.getExtension(x509.ExtendedKeyUsageExtension)!.usages], [
    x509.ExtendedKeyUsage.clientAuth,
  ]);
});

Deno.test("a leaf issued by a CA loaded from PEM verifies, its AKI is the CA's own SKI", async () => {
  await using dir = await tempDir();
  // An openssl CA whose SKI is not the SHA-1 of its key: the AKI must copy it, not recompute.
  const made = await opensslSelfSigned(dir.path, [
    "-subj",
    "/CN=openssl-ca/O=elsewhere",
    "-days",
    "30",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
    "-addext",
    "subjectKeyIdentifier=0102030405060708",
    // openssl's default AKI would be the key's hash, not the SKI above, and break its chain.
    "-addext",
    "authorityKeyIdentifier=none",
  ]);
  const caPem = made.certificatePem;
  const ca = await loadCertificateAuthority(caPem, made.privateKeyPem);
  const leaf = await issueCertificate(ca, { commonName: "loaded", dnsNames: ["localhost"] });
  const parsed = new x509.X509Certificate(leaf.certificatePem);
  assertEquals(parsed.issuer, "CN=openssl-ca, O=elsewhere");
  assertEquals(
    parsed.getExtension(x509.AuthorityKeyIdentifierExtension)!.keyId,
    "0102030405060708",
  );
  assertEquals(
    (await verifies(dir.path, caPem, leaf.certificatePem)).trim(),
    `${dir.path}/leaf.pem: OK`,
  );

  // And one of mca's own CAs, written out and loaded back.
  const own = await createCertificateAuthority({ keyAlgorithm: "ecdsa-p384" });
  const reloaded = await loadCertificateAuthority(own.certificatePem, own.privateKeyPem);
  const second = await issueCertificate(reloaded, { commonName: "again", dnsNames: ["localhost"] });
  assertEquals(
    (await verifies(dir.path, own.certificatePem, second.certificatePem)).trim(),
    `${dir.path}/leaf.pem: OK`,
  );
});
