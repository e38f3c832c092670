/**
 * Which headers travel across a hop, in each direction: hop-by-hop ones never do, the caller's
 * credentials and impersonation only where a path keeps them; answers name their cluster.
 */
import type { IncomingMessage } from "node:http";
import { headersFromRaw, type ProxyRequest } from "../http1/mod.ts";

export { headersFromRaw };

/** The response header naming the cluster that served a request. */
export const CLUSTER_HEADER = "x-mca-cluster";

// Hop-by-hop headers (RFC 9110 §7.6.1) and the caller's credentials never travel upstream.
const DROPPED_REQUEST_HEADERS = new Set([
  "authorization",
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "host",
  "content-length",
]);
const DROPPED_RESPONSE_HEADERS = new Set([
  "connection",
  "keep-alive",
  "transfer-encoding",
  "proxy-connection",
]);
/** True for headers that never travel upstream (hop-by-hop ones and the caller's credentials). */
export function isDroppedRequestHeader(lowerName: string): boolean {
  return DROPPED_REQUEST_HEADERS.has(lowerName);
}

/** True for hop-by-hop response headers. */
export function isDroppedResponseHeader(lowerName: string): boolean {
  return DROPPED_RESPONSE_HEADERS.has(lowerName);
}

/**
 * The caller's headers minus hop-by-hop ones, credentials and (unless kept, for the agent,
 * which receives the hub's) impersonation; upgrades keep their handshake. Read from the raw
 * headers: node joins repeated headers with ", ", which would merge several Impersonate-Group
 * values into one group.
 */
export function forwardedHeaders(
  req: Pick<ProxyRequest, "rawHeaders" | "headers">,
  options: { upgrade: boolean; keepImpersonation?: boolean },
): Record<string, string | string[]> {
  const connectionTokens = new Set(
    String(req.headers.connection ?? "").toLowerCase().split(",").map((t) => t.trim()),
  );
  const result = headersFromRaw(
    req.rawHeaders,
    (name) =>
      (name.startsWith("impersonate-") && !options.keepImpersonation) ||
      DROPPED_REQUEST_HEADERS.has(name) || connectionTokens.has(name),
  );
  if (options.upgrade) {
    result.connection = "Upgrade";
    result.upgrade = String(req.headers.upgrade);
  }
  return result;
}

/**
 * The upstream's response headers minus hop-by-hop ones, plus the header naming the cluster;
 * from the raw list, so that repeated headers (Warning) stay separate lines.
 */
export function responseHeaders(
  response: Pick<IncomingMessage, "rawHeaders">,
  cluster: string,
): Record<string, string | string[]> {
  const result = headersFromRaw(response.rawHeaders, isDroppedResponseHeader);
  result[CLUSTER_HEADER] = cluster;
  return result;
}

/**
 * The API server's `Audit-Id` of an answer, as a log field (absent when the answer has none), so
 * a request's log line can be found in the API server's audit log.
 */
export function auditIdField(
  headers: Record<string, string | string[] | undefined>,
): { auditId?: string } {
  const value = headers["audit-id"];
  const auditId = Array.isArray(value) ? value[0] : value;
  return auditId ? { auditId } : {};
}
