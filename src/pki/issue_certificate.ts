/** Leaf certificates for servers and clients, signed by a CA in memory. */
import {
  authorityKeyIdentifierExtension,
  basicConstraintsExtension,
  distinguishedName,
  extendedKeyUsageExtension,
  KEY_USAGE,
  keyIdentifier,
  keyUsageExtension,
  signCertificate,
  subjectAltNameExtension,
  subjectKeyIdentifierExtension,
} from "./_certificate_builder.ts";
import { parseIpAddress } from "./_ip_address.ts";
import { OID } from "./_oid.ts";
import { type Certificate, readCertificate } from "./certificate.ts";
import type { CertificateAuthority } from "./certificate_authority.ts";
import { generateKeyPair, type KeyAlgorithm } from "./key_pair.ts";
import { encodePem, encodePrivateKeyPem } from "./pem.ts";
import { validityWindow } from "./_validity.ts";

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
  certificate: Certificate;
  certificatePem: string;
  privateKeyPem: string;
  privateKey: CryptoKey;
}

const EXTENDED_USAGE: Record<CertificateUsage, string> = {
  server: OID.serverAuth,
  client: OID.clientAuth,
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
  const dnsNames = options.dnsNames ?? [];
  const ipAddresses = (options.ipAddresses ?? []).map(ipAddressBytes);
  const rsa = keyAlgorithm.startsWith("rsa");
  const publicKeyInfo = new Uint8Array(await crypto.subtle.exportKey("spki", keys.publicKey));
  // A CA loaded from PEM names its key in its own SKI, which need not be method 1's hash.
  const caKeyId = ca.certificate.subjectKeyId ??
    await keyIdentifier(ca.certificate.subjectPublicKeyInfo);
  const der = await signCertificate({
    issuer: ca.certificate.subjectDer,
    subject: distinguishedName(options.commonName, options.organizations ?? []),
    notBefore,
    // A certificate outliving its CA would be refused by verifiers anyway.
    notAfter: notAfter > caNotAfter ? caNotAfter : notAfter,
    publicKeyInfo,
    extensions: [
      basicConstraintsExtension(false),
      // RSA key exchange needs keyEncipherment; ECDSA only signs.
      keyUsageExtension(
        rsa
          ? [KEY_USAGE.digitalSignature, KEY_USAGE.keyEncipherment]
          : [KEY_USAGE.digitalSignature],
      ),
      extendedKeyUsageExtension(usages.map((usage) => EXTENDED_USAGE[usage])),
      subjectKeyIdentifierExtension(await keyIdentifier(publicKeyInfo)),
      authorityKeyIdentifierExtension(caKeyId),
      ...(dnsNames.length + ipAddresses.length > 0
        ? [subjectAltNameExtension(dnsNames, ipAddresses)]
        : []),
    ],
  }, ca);
  return {
    certificate: readCertificate(der),
    certificatePem: encodePem(der, "CERTIFICATE"),
    privateKeyPem: await encodePrivateKeyPem(keys.privateKey),
    privateKey: keys.privateKey,
  };
}

function ipAddressBytes(ip: string): Uint8Array {
  const bytes = parseIpAddress(ip);
  if (!bytes) throw new Error(`Invalid IP address for a certificate: "${ip}"`);
  return bytes;
}
