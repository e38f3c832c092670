/** Leaf certificates for servers and clients, signed by a CA in memory. */
import { x509 } from "./_x509.ts";
import type { CertificateAuthority } from "./certificate_authority.ts";
import { generateKeyPair, type KeyAlgorithm, keyAlgorithmParams } from "./key_pair.ts";
import { encodePrivateKeyPem } from "./pem.ts";
import { randomSerialNumber, validityWindow } from "./_validity.ts";

/** What a leaf certificate may be used for (extended key usage). */
export type CertificateUsage = "server" | "client";

/** Options for a leaf certificate. */
export interface IssueCertificateOptions {
  commonName: string;
  /** Subject organizations; Kubernetes reads them as the client's groups. */
  organizations?: string[];
  dnsNames?: string[];
  ipAddresses?: string[];
  /** Default: ["server"]. */
  usages?: CertificateUsage[];
  /** Validity in days; default 365. */
  validityDays?: number;
  /** Start of validity (backdated 5 minutes for clock skew); default now. */
  notBefore?: Date;
  keyAlgorithm?: KeyAlgorithm;
}

/** A signed leaf certificate with its key, as PEM and parsed. */
export interface IssuedCertificate {
  certificate: x509.X509Certificate;
  certificatePem: string;
  privateKeyPem: string;
  privateKey: CryptoKey;
}

const EXTENDED_USAGE: Record<CertificateUsage, string> = {
  server: x509.ExtendedKeyUsage.serverAuth,
  client: x509.ExtendedKeyUsage.clientAuth,
};

/** Generates a key pair and a certificate for it signed by the CA. */
export async function issueCertificate(
  ca: CertificateAuthority,
  options: IssueCertificateOptions,
): Promise<IssuedCertificate> {
  const keyAlgorithm = options.keyAlgorithm ?? "ecdsa-p256";
  const keys = await generateKeyPair(keyAlgorithm);
  const { notBefore, notAfter } = validityWindow(options.notBefore, options.validityDays ?? 365);
  const caNotAfter = ca.certificate.notAfter;
  const usages = options.usages ?? ["server"];
  const names = subjectAlternativeNames(options.dnsNames ?? [], options.ipAddresses ?? []);
  const rsa = keyAlgorithm.startsWith("rsa");
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialNumber(),
    subject: subjectName(options.commonName, options.organizations ?? []),
    issuer: ca.certificate.subjectName,
    notBefore,
    // A certificate outliving its CA would be refused by verifiers anyway.
    notAfter: notAfter > caNotAfter ? caNotAfter : notAfter,
    publicKey: keys.publicKey,
    signingKey: ca.privateKey,
    signingAlgorithm: keyAlgorithmParams(ca.keyAlgorithm).sign,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(
        // RSA key exchange needs keyEncipherment; ECDSA only signs.
        x509.KeyUsageFlags.digitalSignature | (rsa ? x509.KeyUsageFlags.keyEncipherment : 0),
        true,
      ),
      new x509.ExtendedKeyUsageExtension(usages.map((usage) => EXTENDED_USAGE[usage])),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(ca.certificate),
      ...(names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names)] : []),
    ],
  });
  return {
    certificate,
    certificatePem: certificate.toString("pem") + "\n",
    privateKeyPem: await encodePrivateKeyPem(keys.privateKey),
    privateKey: keys.privateKey,
  };
}

function subjectName(commonName: string, organizations: string[]): x509.JsonName {
  // Kubernetes maps every O to a group: one RDN each keeps them separate.
  return [{ CN: [commonName] }, ...organizations.map((organization) => ({ O: [organization] }))];
}

function subjectAlternativeNames(dnsNames: string[], ipAddresses: string[]): x509.JsonGeneralNames {
  for (const ip of ipAddresses) {
    if (!isIpAddress(ip)) throw new Error(`Invalid IP address for a certificate: "${ip}"`);
  }
  return [
    ...dnsNames.map((value) => ({ type: "dns" as const, value })),
    ...ipAddresses.map((value) => ({ type: "ip" as const, value })),
  ];
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

function isIpAddress(value: string): boolean {
  return IPV4.test(value) || (value.includes(":") && /^[0-9a-fA-F:.]+$/.test(value));
}
