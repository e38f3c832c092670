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
