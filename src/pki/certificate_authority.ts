/** Certificate authorities generated in memory or loaded from PEM. */
import {
  basicConstraintsExtension,
  distinguishedName,
  KEY_USAGE,
  keyIdentifier,
  keyUsageExtension,
  signCertificate,
  subjectKeyIdentifierExtension,
} from "./_certificate_builder.ts";
import { type Certificate, readCertificate } from "./certificate.ts";
import {
  generateKeyPair,
  type KeyAlgorithm,
  keyAlgorithmOf,
  keyAlgorithmParams,
} from "./key_pair.ts";
import {
  encodePem,
  encodePrivateKeyPem,
  importPrivateKeyPem,
  parseCertificatesPem,
} from "./pem.ts";
import { validityWindow } from "./_validity.ts";

/** A CA able to sign certificates: its certificate and private key, parsed and as PEM. */
export interface CertificateAuthority {
  certificate: Certificate;
  privateKey: CryptoKey;
  keyAlgorithm: KeyAlgorithm;
  certificatePem: string;
  privateKeyPem: string;
}

/** Options for a new CA. */
export interface CertificateAuthorityOptions {
  /** Subject common name; default "mca-ca". */
  commonName?: string;
  /** Validity in days; default 3650. */
  validityDays?: number;
  /** Start of validity (backdated 5 minutes for clock skew); default now. */
  notBefore?: Date;
  keyAlgorithm?: KeyAlgorithm;
}

/** Generates a self-signed CA certificate and key in memory. */
export async function createCertificateAuthority(
  options: CertificateAuthorityOptions = {},
): Promise<CertificateAuthority> {
  const keyAlgorithm = options.keyAlgorithm ?? "ecdsa-p256";
  const keys = await generateKeyPair(keyAlgorithm);
  const { notBefore, notAfter } = validityWindow(options.notBefore, options.validityDays ?? 3650);
  const publicKeyInfo = new Uint8Array(await crypto.subtle.exportKey("spki", keys.publicKey));
  const name = distinguishedName(options.commonName ?? "mca-ca");
  const der = await signCertificate({
    issuer: name,
    subject: name,
    notBefore,
    notAfter,
    publicKeyInfo,
    extensions: [
      basicConstraintsExtension(true),
      keyUsageExtension([
        KEY_USAGE.keyCertSign,
        KEY_USAGE.cRLSign,
        KEY_USAGE.digitalSignature,
      ]),
      subjectKeyIdentifierExtension(await keyIdentifier(publicKeyInfo)),
    ],
  }, { privateKey: keys.privateKey, keyAlgorithm });
  return {
    certificate: readCertificate(der),
    privateKey: keys.privateKey,
    keyAlgorithm,
    certificatePem: encodePem(der, "CERTIFICATE"),
    privateKeyPem: await encodePrivateKeyPem(keys.privateKey),
  };
}

/** Loads a CA from PEM, checking that it is a CA and that the key matches the certificate. */
export async function loadCertificateAuthority(
  certificatePem: string,
  privateKeyPem: string,
): Promise<CertificateAuthority> {
  const [certificate] = parseCertificatesPem(certificatePem);
  if (!certificate) throw new Error("Cannot load CA: no certificate");
  if (!certificate.isCa) {
    throw new Error(`Cannot load CA: "${certificate.subject}" is not a CA certificate`);
  }
  const publicKey = await importPublicKey(certificate);
  const keyAlgorithm = keyAlgorithmOf(publicKey);
  const privateKey = await importPrivateKeyPem(privateKeyPem, keyAlgorithm);
  if (!(await keyMatches(privateKey, publicKey, keyAlgorithm))) {
    throw new Error(`Cannot load CA: the private key does not belong to "${certificate.subject}"`);
  }
  return { certificate, privateKey, keyAlgorithm, certificatePem, privateKeyPem };
}

async function keyMatches(
  privateKey: CryptoKey,
  publicKey: CryptoKey,
  keyAlgorithm: KeyAlgorithm,
): Promise<boolean> {
  const params = keyAlgorithmParams(keyAlgorithm).sign;
  const probe = new TextEncoder().encode("mca key check");
  const signature = await crypto.subtle.sign(params, privateKey, probe);
  return await crypto.subtle.verify(params, publicKey, signature, probe);
}

// Web Crypto needs the algorithm to import a key: the first one that accepts it tells.
async function importPublicKey(certificate: Certificate): Promise<CryptoKey> {
  for (const algorithm of ["ecdsa-p256", "ecdsa-p384", "rsa-2048"] as const) {
    try {
      const params = keyAlgorithmParams(algorithm).import;
      return await crypto.subtle.importKey(
        "spki",
        certificate.subjectPublicKeyInfo,
        params,
        true,
        ["verify"],
      );
    } catch {
      // Not this algorithm: try the next.
    }
  }
  throw new Error(`Cannot load CA: the key of "${certificate.subject}" is not ECDSA or RSA`);
}
