/** A response head as bytes on a raw socket: answers written before or instead of a server. */
import { responseFieldError } from "./_message_head.ts";
import { reasonOf } from "./server_response.ts";

/**
 * "HTTP/1.1 <status> <reason>", the header lines (arrays as repeated lines) and the blank line.
 * Throws on a status, reason or field that cannot be written as given (an agent's upgrade answer).
 */
export function encodeResponseHead(
  status: number,
  reason: string | undefined,
  headers: Record<string, string | number | string[]>,
): string {
  const error = responseFieldError({ status, reason: reason ?? "" }) ??
    Object.entries(headers).map(([name, value]) => responseFieldError({ name, value })).find(
      Boolean,
    );
  if (error) throw new Error(error);
  let text = `HTTP/1.1 ${status} ${reason || reasonOf(status)}\r\n`;
  for (const [name, value] of Object.entries(headers)) {
    for (const one of Array.isArray(value) ? value : [value]) text += `${name}: ${one}\r\n`;
  }
  return text + "\r\n";
}
