/** Certificate authorities generated in memory or loaded from PEM. */
import { x509 } from "./_x509.ts";
import {
  generateKeyPair,
  type KeyAlgorithm,
  keyAlgorithmOf,
  keyAlgorithmParams,
} from "./key_pair.ts";
import { encodePrivateKeyPem, importPrivateKeyPem, parseCertificatesPem } from "./pem.ts";
import { randomSerialNumber, validityWindow } from "./_validity.ts";

/** A CA able to sign certificates: its certificate and private key, parsed and as PEM. */
export interface CertificateAuthority {
  certificate: x509.X509Certificate;
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
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerialNumber(),
    name: [{ CN: [options.commonName ?? "mca-ca"] }],
    notBefore,
    notAfter,
    keys,
    signingAlgorithm: keyAlgorithmParams(keyAlgorithm).sign,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign |
          x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return {
    certificate,
    privateKey: keys.privateKey,
    keyAlgorithm,
    certificatePem: certificate.toString("pem") + "\n",
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
  const constraints = certificate.getExtension(x509.BasicConstraintsExtension);
  if (!constraints?.ca) {
    throw new Error(`Cannot load CA: "${certificate.subject}" is not a CA certificate`);
  }
  const publicKey = await certificate.publicKey.export();
  const keyAlgorithm = keyAlgorithmOf(publicKey);
  const privateKey = await importPrivateKeyPem(privateKeyPem, keyAlgorithm);
  if (!(await keyMatchesCertificate(privateKey, certificate, keyAlgorithm))) {
    throw new Error(`Cannot load CA: the private key does not belong to "${certificate.subject}"`);
  }
  return { certificate, privateKey, keyAlgorithm, certificatePem, privateKeyPem };
}

async function keyMatchesCertificate(
  privateKey: CryptoKey,
  certificate: x509.X509Certificate,
  keyAlgorithm: KeyAlgorithm,
): Promise<boolean> {
  const params = keyAlgorithmParams(keyAlgorithm).sign;
  const probe = new TextEncoder().encode("mca key check");
  const signature = await crypto.subtle.sign(params, privateKey, probe);
  const publicKey = await certificate.publicKey.export();
  return await crypto.subtle.verify(params, publicKey, signature, probe);
}
