import { toHex } from "../../src/bytes.ts";
import { assert, assertEquals, assertThrows } from "../_utils/assert.ts";
import { opensslSelfSigned } from "../_utils/openssl_certificate.ts";
import { tempDir } from "../_utils/temp_dir.ts";
import { x509 } from "../_utils/x509.ts";
import { readCertificate } from "../../src/pki/certificate.ts";
import { pemBlocks } from "../../src/pki/pem.ts";

const hex = (bytes: Uint8Array | undefined) => bytes && toHex(bytes);

/** A certificate made by openssl, so that the reader is not checked against its own writer. */
async function opensslCertificate(args: string[]): Promise<Uint8Array<ArrayBuffer>> {
  await using dir = await tempDir();
  const { certificatePem } = await opensslSelfSigned(dir.path, args);
  return pemBlocks(certificatePem)[0]!.der;
}

Deno.test("readCertificate() reads what openssl wrote: subject, validity, key, SKI, CA flag", async () => {
  const der = await opensslCertificate([
    "-subj",
    "/CN=reader test/O=dev/O=a,b",
    "-days",
    "30",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
  ]);
  const expected = new x509.X509Certificate(der);
  const certificate = readCertificate(der);
  assertEquals(certificate.subject, "CN=reader test, O=dev, O=a\\,b");
  assertEquals(certificate.notBefore, expected.notBefore);
  assertEquals(certificate.notAfter, expected.notAfter);
  assertEquals(
    hex(certificate.subjectPublicKeyInfo),
    hex(new Uint8Array(expected.publicKey.rawData)),
  );
  assertEquals(
    hex(certificate.subjectDer),
    hex(new Uint8Array(expected.subjectName.toArrayBuffer())),
  );
  const ski = expected.getExtension(x509.SubjectKeyIdentifierExtension);
  assertEquals(hex(certificate.subjectKeyId), ski!.keyId);
  assertEquals(certificate.isCa, true);
  assertEquals(certificate.der, der);
});

Deno.test("readCertificate() reads a leaf without a SKI and a GeneralizedTime after 2049", async () => {
  const der = await opensslCertificate([
    "-subj",
    "/CN=leaf",
    "-days",
    "36500",
    "-addext",
    "basicConstraints=critical,CA:FALSE",
    "-addext",
    "subjectKeyIdentifier=none",
  ]);
  const certificate = readCertificate(der);
  assertEquals(certificate.isCa, false);
  assertEquals(certificate.subjectKeyId, undefined);
  assert(certificate.notAfter.getUTCFullYear() > 2100);
  assertEquals(certificate.notAfter, new x509.X509Certificate(der).notAfter);
});

Deno.test("readCertificate() refuses truncated and trailing data with a clear error", async () => {
  const der = await opensslCertificate(["-subj", "/CN=x", "-days", "1"]);
  assertThrows(
    () => readCertificate(der.slice(0, der.length - 1)),
    Error,
    "Cannot read certificate: invalid DER: an element runs past the end",
  );
  const longer = new Uint8Array(der.length + 1);
  longer.set(der);
  assertThrows(() => readCertificate(longer), Error, "trailing bytes after an element");
  assertThrows(
    () => readCertificate(new Uint8Array([0x04, 0x00])),
    Error,
    "expected a certificate",
  );
  assertThrows(() => readCertificate(new Uint8Array(0)), Error, "the data ends too early");
});
