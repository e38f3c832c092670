/** PEM encoding and decoding of certificates and private keys. */
import { type Certificate, readCertificate } from "./certificate.ts";
import { type KeyAlgorithm, keyAlgorithmParams } from "./key_pair.ts";

/** Encodes a private key as PKCS#8 PEM ("PRIVATE KEY"), which Deno, Node and Go all read. */
export async function encodePrivateKeyPem(key: CryptoKey): Promise<string> {
  const der = await crypto.subtle.exportKey("pkcs8", key);
  return encodePem(new Uint8Array(der), "PRIVATE KEY");
}

/** One PEM block (RFC 7468): base64 in lines of 64 characters, ending with a newline. */
export function encodePem(der: Uint8Array, label: string): string {
  const base64 = encodeBase64(der);
  const lines = base64.match(/.{1,64}/g) ?? [];
  return [`-----BEGIN ${label}-----`, ...lines, `-----END ${label}-----`, ""].join("\n");
}

/** Imports a PKCS#8 PEM private key for signing with the given algorithm. */
export async function importPrivateKeyPem(
  pem: string,
  algorithm: KeyAlgorithm,
): Promise<CryptoKey> {
  const block = pemBlocks(pem).find((b) => b.label.endsWith("PRIVATE KEY"));
  if (!block) throw new Error("Cannot read private key: no PEM block found");
  if (block.label !== "PRIVATE KEY") {
    throw new Error(
      `Cannot read private key: "${block.label}" is not supported, convert it to PKCS#8 ("PRIVATE KEY")`,
    );
  }
  return await crypto.subtle.importKey(
    "pkcs8",
    block.der,
    keyAlgorithmParams(algorithm).import,
    true,
    ["sign"],
  );
}

/** One decoded PEM block. */
export interface PemBlock {
  label: string;
  der: Uint8Array<ArrayBuffer>;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/** Splits a PEM text (a bundle may hold several blocks) into its decoded blocks. */
export function pemBlocks(pem: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const match of pem.matchAll(PEM_BLOCK)) {
    const base64 = (match[2] ?? "").replace(/\s+/g, "");
    blocks.push({ label: match[1] ?? "", der: decodeBase64(base64) });
  }
  return blocks;
}

/** Parses every certificate of a PEM bundle; throws if there is none. */
export function parseCertificatesPem(pem: string): Certificate[] {
  const certificates = pemBlocks(pem)
    .filter((block) => block.label === "CERTIFICATE")
    .map((block) => readCertificate(block.der));
  if (certificates.length === 0) {
    throw new Error("Cannot read certificate: no PEM certificate found");
  }
  return certificates;
}

function decodeBase64(base64: string): Uint8Array<ArrayBuffer> {
  try {
    return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  } catch {
    throw new Error("Cannot read PEM: the base64 content is invalid");
  }
}

function encodeBase64(bytes: Uint8Array): string {
  let binary = "";
  // Chunks keep String.fromCharCode's argument count small.
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}
