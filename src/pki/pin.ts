/** CA pins: "sha256:<hex>" of the CA's SubjectPublicKeyInfo, as kubeadm's discovery hash. */
import { toHex } from "../bytes.ts";
import type { Certificate } from "./certificate.ts";
import { parseCertificatesPem } from "./pem.ts";

const PIN = /^sha256:[0-9a-f]{64}$/;

/** Computes the pin of the first certificate in a PEM text. */
export async function computeCaPin(certificatePem: string): Promise<string> {
  const [certificate] = parseCertificatesPem(certificatePem);
  if (!certificate) throw new Error("Cannot compute pin: no certificate");
  return await pinOf(certificate);
}

/** Checks the syntax of a pin; throws a clear error if it is not "sha256:" and 64 hex digits. */
export function parseCaPin(pin: string): string {
  const normalized = pin.trim().toLowerCase();
  if (!PIN.test(normalized)) {
    throw new Error(`Invalid CA pin "${pin}": expected "sha256:" followed by 64 hex digits`);
  }
  return normalized;
}

/** True if any certificate of the PEM bundle matches the pin (CA rotation keeps two). */
export async function verifyCaPin(certificatePem: string, pin: string): Promise<boolean> {
  const expected = parseCaPin(pin);
  const pins = await Promise.all(parseCertificatesPem(certificatePem).map(pinOf));
  return pins.includes(expected);
}

async function pinOf(certificate: Certificate): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", certificate.subjectPublicKeyInfo);
  return "sha256:" + toHex(digest);
}
