/** Reading a request's body into memory, bounded. */
import type { ProxyRequest } from "../http1/mod.ts";

/** True when the request announces a body. */
export function hasBody(req: Pick<ProxyRequest, "headers">): boolean {
  return req.headers["content-length"] !== undefined && req.headers["content-length"] !== "0" ||
    req.headers["transfer-encoding"] !== undefined;
}

/** Reads the whole body, or stops at the limit. */
export async function readBody(
  req: ProxyRequest,
  limit: number,
): Promise<Uint8Array | "too-large"> {
  const declared = Number(req.headers["content-length"] ?? NaN);
  if (declared > limit) {
    req.resume();
    return "too-large";
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > limit) {
      req.resume();
      return "too-large";
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
