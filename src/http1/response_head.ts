/** A response head as bytes on a raw socket: answers written before or instead of a server. */
import { reasonOf } from "./server_response.ts";

/** "HTTP/1.1 <status> <reason>", the header lines (arrays as repeated lines) and the blank line. */
export function encodeResponseHead(
  status: number,
  reason: string | undefined,
  headers: Record<string, string | number | string[]>,
): string {
  let text = `HTTP/1.1 ${status} ${reason || reasonOf(status)}\r\n`;
  for (const [name, value] of Object.entries(headers)) {
    for (const one of Array.isArray(value) ? value : [value]) text += `${name}: ${one}\r\n`;
  }
  return text + "\r\n";
}
