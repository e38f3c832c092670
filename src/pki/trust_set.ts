/**
 * A set of trusted CAs, each with its pin: what an agent verifies the hub against. During a hub
 * CA rollover the set holds two CAs (the current and the next, or the current and the previous).
 */
import { readCertificate } from "./certificate.ts";
import { encodePem, pemBlocks } from "./pem.ts";
import { computeCaPin } from "./pin.ts";

/** One trusted CA: its certificate (one PEM block) and the pin computed from it. */
export interface TrustedCa {
  pin: string;
  certificatePem: string;
}

/** Limit of CAs in a set: a rollover needs two; more is a mistake or an attack. */
export const MAX_TRUSTED_CAS = 4;

/**
 * Splits a PEM bundle into CA certificates with their pins (computed here, never taken from the
 * sender); duplicates are dropped, order is kept. Throws on a non-CA or unreadable certificate.
 */
export async function trustSetOf(bundlePem: string): Promise<TrustedCa[]> {
  const set: TrustedCa[] = [];
  for (const block of pemBlocks(bundlePem)) {
    if (block.label !== "CERTIFICATE") continue;
    const certificate = readCertificate(block.der);
    if (!certificate.isCa) {
      throw new Error(`Cannot trust "${certificate.subject}": it is not a CA certificate`);
    }
    const certificatePem = encodePem(block.der, "CERTIFICATE");
    const pin = await computeCaPin(certificatePem);
    if (!set.some((ca) => ca.pin === pin)) set.push({ pin, certificatePem });
  }
  if (set.length === 0) throw new Error("Cannot read the CA set: no certificate in it");
  if (set.length > MAX_TRUSTED_CAS) {
    throw new Error(`Cannot trust ${set.length} CAs at once: at most ${MAX_TRUSTED_CAS}`);
  }
  return set;
}

/** The set as one PEM bundle (what TLS clients take as `ca`). */
export function trustBundle(set: readonly TrustedCa[]): string {
  return set.map((ca) => ca.certificatePem).join("");
}

/** The pins of a set, in order. */
export function trustPins(set: readonly TrustedCa[]): string[] {
  return set.map((ca) => ca.pin);
}

/** True when both sets hold the same CAs (order aside). */
export function sameTrustSet(a: readonly TrustedCa[], b: readonly TrustedCa[]): boolean {
  return a.length === b.length && a.every((ca) => b.some((other) => other.pin === ca.pin));
}

/** True when `held` holds every CA of `wanted` (an agent that is ready for a switch). */
export function holdsEveryPin(held: readonly string[], wanted: readonly string[]): boolean {
  return wanted.every((pin) => held.includes(pin));
}

/**
 * Whether an agent may replace its set `held` with `offered`: the offered set must keep at
 * least one CA it already trusts, so a rollover moves one step at a time (current+next, then
 * next alone) and a set sharing nothing with what the agent pinned is refused.
 */
export function continuesTrust(held: readonly TrustedCa[], offered: readonly TrustedCa[]): boolean {
  return offered.some((ca) => held.some((trusted) => trusted.pin === ca.pin));
}
