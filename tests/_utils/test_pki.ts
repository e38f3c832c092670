/** A CA with a localhost server certificate, shared by tests that need real TLS. */
import {
  type CertificateAuthority,
  createCertificateAuthority,
  issueCertificate,
  type IssuedCertificate,
} from "../../src/pki/mod.ts";

/** A CA and a server certificate for localhost and 127.0.0.1. */
export interface TestPki {
  ca: CertificateAuthority;
  server: IssuedCertificate;
}

/** Creates a fresh CA and a server certificate valid for loopback. */
export async function createTestPki(extraDnsNames: string[] = []): Promise<TestPki> {
  const ca = await createCertificateAuthority({ commonName: "test-ca" });
  const server = await issueCertificate(ca, {
    commonName: "test-server",
    dnsNames: ["localhost", ...extraDnsNames],
    ipAddresses: ["127.0.0.1", "::1"],
  });
  return { ca, server };
}
