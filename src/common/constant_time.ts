/** Comparing secrets without leaking where they differ. */

/**
 * Compares a presented secret with the expected one in time that depends only on the expected
 * length (the expected value is fixed; its length is no secret). Cheaper per request than
 * encoding both for node's timingSafeEqual.
 */
export function sameInConstantTime(given: string, expected: string): boolean {
  let difference = given.length ^ expected.length;
  for (let i = 0; i < expected.length; i++) {
    difference |= (given.charCodeAt(i) | 0) ^ expected.charCodeAt(i);
  }
  return difference === 0;
}
