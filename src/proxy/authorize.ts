/** The request path's first step: only the pod's apps, holding the token the proxy wrote, get in. */
import type { IncomingHttpHeaders } from "node:http";

/** The message of the 401 every unauthorized request or upgrade gets. */
export const UNAUTHORIZED_MESSAGE =
  "Unauthorized: this proxy only accepts the token it wrote for this pod";

/** True when the request carries `Authorization: <expected>` (say, `Bearer <token>`). */
export function authorize(headers: IncomingHttpHeaders, expected: string): boolean {
  return sameInConstantTime(headers.authorization ?? "", expected);
}

/**
 * Compares a presented token with the expected one in time that depends only on the expected
 * length (the expected token is fixed; its length is no secret). Cheaper per request than
 * encoding both for node's timingSafeEqual.
 */
export function sameInConstantTime(given: string, expected: string): boolean {
  let difference = given.length ^ expected.length;
  for (let i = 0; i < expected.length; i++) {
    difference |= (given.charCodeAt(i) | 0) ^ expected.charCodeAt(i);
  }
  return difference === 0;
}
