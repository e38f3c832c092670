/**
 * Builds and signs X.509 v3 certificates (RFC 5280 §4.1) on Web Crypto, with the DER writer in
 * ./_der.ts: only the names and extensions mca's CAs and leaves carry.
 */
import {
  derBitString,
  derBoolean,
  derDirectoryString,
  derExplicit,
  derImplicit,
  derInteger,
  derNamedBits,
  derNull,
  derObjectIdentifier,
  derOctetString,
  derSequence,
  derSet,
  derTime,
  TAG,
} from "./_der.ts";
import { expectTag, readDerChildren, readDerOnly } from "./_der_reader.ts";
import { OID } from "./_oid.ts";
import { type KeyAlgorithm, keyAlgorithmParams } from "./key_pair.ts";

/** What goes into a certificate, all but the serial number and the signature. */
export interface CertificateTemplate {
  /** The issuer's Name DER, copied verbatim from its certificate's subject. */
  issuer: Uint8Array;
  /** The subject's Name DER, see distinguishedName. */
  subject: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  /** The subject's SubjectPublicKeyInfo DER, as Web Crypto exports it ("spki"). */
  publicKeyInfo: Uint8Array;
  /** Encoded extensions, see the functions below. */
  extensions: Uint8Array[];
}

/** The key a certificate is signed with. */
export interface CertificateSigner {
  privateKey: CryptoKey;
  keyAlgorithm: KeyAlgorithm;
}

/** Signs a template as a v3 certificate and returns its DER. */
export async function signCertificate(
  template: CertificateTemplate,
  signer: CertificateSigner,
): Promise<Uint8Array<ArrayBuffer>> {
  const algorithm = signatureAlgorithm(signer.keyAlgorithm);
  const tbs = derSequence([
    derExplicit(0, derInteger(new Uint8Array([2]))), // v3
    derInteger(randomSerialNumber()),
    algorithm,
    template.issuer,
    derSequence([derTime(template.notBefore), derTime(template.notAfter)]),
    template.subject,
    template.publicKeyInfo,
    derExplicit(3, derSequence(template.extensions)),
  ]);
  const params = keyAlgorithmParams(signer.keyAlgorithm).sign;
  const signature = new Uint8Array(await crypto.subtle.sign(params, signer.privateKey, tbs));
  const value = params.name === "ECDSA" ? ecdsaSignatureDer(signature) : signature;
  return derSequence([tbs, algorithm, derBitString(value)]);
}

/** A random positive 128-bit serial number (RFC 5280 §4.1.2.2: at most 20 octets). */
function randomSerialNumber(): Uint8Array<ArrayBuffer> {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  // High bit clear keeps it positive without a padding byte; a non-zero top keeps 16 bytes.
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return bytes;
}

// RFC 5758 §3.2: ECDSA identifiers have no parameters; RFC 8017 §A.2.4: RSA ones have NULL.
function signatureAlgorithm(keyAlgorithm: KeyAlgorithm): Uint8Array<ArrayBuffer> {
  switch (keyAlgorithm) {
    case "ecdsa-p256":
      return derSequence([derObjectIdentifier(OID.ecdsaWithSha256)]);
    case "ecdsa-p384":
      return derSequence([derObjectIdentifier(OID.ecdsaWithSha384)]);
    case "rsa-2048":
    case "rsa-4096":
      return derSequence([derObjectIdentifier(OID.sha256WithRsaEncryption), derNull()]);
  }
}

/** Web Crypto signs ECDSA as r||s (IEEE P1363); X.509 wants SEQUENCE { r INTEGER, s INTEGER }. */
export function ecdsaSignatureDer(signature: Uint8Array): Uint8Array<ArrayBuffer> {
  const half = signature.length / 2;
  return derSequence([
    derInteger(signature.subarray(0, half)),
    derInteger(signature.subarray(half)),
  ]);
}

/** A subject Name: the CN, then one RDN per O, since Kubernetes maps every O to a group. */
export function distinguishedName(
  commonName: string,
  organizations: string[] = [],
): Uint8Array<ArrayBuffer> {
  const rdn = (oid: string, value: string) =>
    derSet([derSequence([derObjectIdentifier(oid), derDirectoryString(value)])]);
  return derSequence([
    rdn(OID.commonName, commonName),
    ...organizations.map((organization) => rdn(OID.organization, organization)),
  ]);
}

/** Key identifier by RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits. */
export async function keyIdentifier(publicKeyInfo: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  const info = readDerOnly(new Uint8Array(publicKeyInfo));
  const [, bits] = readDerChildren(expectTag(info, TAG.sequence, "a public key").content);
  // The BIT STRING's first content byte counts unused bits (0 for keys); the key follows it.
  const key = expectTag(bits, TAG.bitString, "a public key").content.subarray(1);
  return new Uint8Array(await crypto.subtle.digest("SHA-1", key));
}

/** Key usage bits (RFC 5280 §4.2.1.3). */
export const KEY_USAGE = {
  digitalSignature: 0,
  keyEncipherment: 2,
  keyCertSign: 5,
  cRLSign: 6,
} as const;

/** basicConstraints, critical: a CA allowed no CA below it, or an end entity (cA omitted). */
export function basicConstraintsExtension(ca: boolean): Uint8Array<ArrayBuffer> {
  // DER leaves out a DEFAULT value, so cA FALSE is an empty SEQUENCE.
  const value = ca
    ? derSequence([derBoolean(true), derInteger(new Uint8Array([0]))])
    : derSequence([]);
  return extension(OID.basicConstraints, true, value);
}

/** keyUsage, critical. */
export function keyUsageExtension(bits: number[]): Uint8Array<ArrayBuffer> {
  return extension(OID.keyUsage, true, derNamedBits(bits));
}

/** extKeyUsage from object identifiers (serverAuth, clientAuth). */
export function extendedKeyUsageExtension(oids: string[]): Uint8Array<ArrayBuffer> {
  return extension(OID.extendedKeyUsage, false, derSequence(oids.map(derObjectIdentifier)));
}

/** subjectKeyIdentifier. */
export function subjectKeyIdentifierExtension(keyId: Uint8Array): Uint8Array<ArrayBuffer> {
  return extension(OID.subjectKeyIdentifier, false, derOctetString(keyId));
}

/** authorityKeyIdentifier with the keyIdentifier ([0]) only. */
export function authorityKeyIdentifierExtension(keyId: Uint8Array): Uint8Array<ArrayBuffer> {
  return extension(OID.authorityKeyIdentifier, false, derSequence([derImplicit(0, keyId)]));
}

/** subjectAltName: dNSName ([2]) and iPAddress ([7], 4 or 16 bytes) entries. */
export function subjectAltNameExtension(
  dnsNames: string[],
  ipAddresses: Uint8Array[],
): Uint8Array<ArrayBuffer> {
  return extension(
    OID.subjectAltName,
    false,
    derSequence([
      // Implicit tags replace the IA5String's own: the content is the name's ASCII bytes.
      ...dnsNames.map((name) => derImplicit(2, new TextEncoder().encode(name))),
      ...ipAddresses.map((address) => derImplicit(7, address)),
    ]),
  );
}

// Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
function extension(oid: string, critical: boolean, value: Uint8Array): Uint8Array<ArrayBuffer> {
  return derSequence([
    derObjectIdentifier(oid),
    ...(critical ? [derBoolean(true)] : []),
    derOctetString(value),
  ]);
}
