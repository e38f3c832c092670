/** Helpers shared by CA and leaf certificate generation. */

const CLOCK_SKEW_MS = 5 * 60 * 1000;
/** Certificate validities are counted in days; options elsewhere are in milliseconds. */
export const DAY_MS = 24 * 60 * 60 * 1000;

/** The validity window: backdated for clock skew between machines, as kubeadm does. */
export function validityWindow(
  start: Date | undefined,
  validityDays: number,
): { notBefore: Date; notAfter: Date } {
  if (!(validityDays > 0)) {
    throw new Error(`Invalid validity: ${validityDays} days, must be positive`);
  }
  const from = (start ?? new Date()).getTime();
  return {
    notBefore: new Date(from - CLOCK_SKEW_MS),
    notAfter: new Date(from + validityDays * DAY_MS),
  };
}

/** A random positive 128-bit serial number as hex (RFC 5280 §4.1.2.2). */
export function randomSerialNumber(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x01;
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
