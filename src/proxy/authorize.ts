/** The request path's first step: only the pod's apps, holding the token the proxy wrote, get in. */
import type { IncomingHttpHeaders } from "node:http";
import { sameInConstantTime } from "../common/constant_time.ts";

/** The message of the 401 every unauthorized request or upgrade gets. */
export const UNAUTHORIZED_MESSAGE =
  "Unauthorized: this proxy only accepts the token it wrote for this pod";

/** True when the request carries `Authorization: <expected>` (say, `Bearer <token>`). */
export function authorize(headers: IncomingHttpHeaders, expected: string): boolean {
  return sameInConstantTime(headers.authorization ?? "", expected);
}
