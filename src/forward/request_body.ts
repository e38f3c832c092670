/** Reading a request's body into memory, bounded. */
import type { ProxyRequest } from "../http1/mod.ts";

/** True when the request announces a body. */
export function hasBody(req: Pick<ProxyRequest, "headers">): boolean {
  return req.headers["content-length"] !== undefined && req.headers["content-length"] !== "0" ||
    req.headers["transfer-encoding"] !== undefined;
}

/** Reads a request's whole body, or stops at the limit (the rest is then discarded). */
export async function readBody(
  req: ProxyRequest,
  limit: number,
): Promise<Uint8Array | "too-large"> {
  const declared = Number(req.headers["content-length"] ?? NaN);
  const body = declared > limit ? "too-large" : await readBounded(req, limit);
  if (body === "too-large") req.resume();
  return body;
}

/** Joins the chunks into one buffer, or stops once they exceed the limit. */
export async function readBounded(
  chunks: AsyncIterable<Uint8Array>,
  limit: number,
): Promise<Uint8Array | "too-large"> {
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of chunks) {
    size += chunk.length;
    if (size > limit) return "too-large";
    parts.push(chunk);
  }
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
