/** Kubernetes Status objects for the errors mca itself produces, so that every client understands them. */
import type { Duplex } from "node:stream";
import { encodeResponseHead, type ProxyResponse } from "../http1/mod.ts";
import { type Status, statusOf } from "../kube/mod.ts";
import { CLUSTER_HEADER } from "./headers.ts";

/** The Status reason of each code (metav1.StatusReason); never an HTTP reason phrase. */
const STATUS_REASONS: Record<number, string> = {
  400: "BadRequest",
  401: "Unauthorized",
  403: "Forbidden",
  404: "NotFound",
  405: "MethodNotAllowed",
  406: "NotAcceptable",
  408: "Timeout",
  409: "Conflict",
  410: "Expired",
  413: "RequestEntityTooLarge",
  429: "TooManyRequests",
  431: "RequestHeaderFieldsTooLarge",
  500: "InternalError",
  501: "NotImplemented",
  503: "ServiceUnavailable",
  504: "Timeout",
};

/** A Status for an error mca made. */
export function proxyStatus(code: number, message: string): Status {
  return statusOf(code, STATUS_REASONS[code] ?? "Unknown", message);
}

/** Clients wait this long before retrying a 429 (client-go reads Retry-After, as from kube-apiserver). */
const RETRY_AFTER_SECONDS = 1;

function retryAfter(code: number): Record<string, string> {
  return code === 429 ? { "retry-after": String(RETRY_AFTER_SECONDS) } : {};
}

/** Answers with a Status; the cluster header says which cluster (if any) the error concerns. */
export function writeStatus(
  res: ProxyResponse,
  code: number,
  message: string,
  cluster?: string,
): void {
  const body = JSON.stringify(proxyStatus(code, message));
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(code, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
    "cache-control": "no-cache, private",
    ...retryAfter(code),
    ...(cluster ? { [CLUSTER_HEADER]: cluster } : {}),
  });
  res.end(body);
}

/** Answers an upgrade request on its raw socket with a Status, then closes it. */
export function writeSocketStatus(socket: Duplex, code: number, message: string): void {
  const { contentType, body } = statusRefusalBody(code, message);
  socket.end(
    encodeResponseHead(code, undefined, {
      "content-type": contentType,
      "content-length": Buffer.byteLength(body),
      ...retryAfter(code),
      connection: "close",
    }) + body,
  );
}

/** The body of a refusal as a Status (for the HTTP/1.1 server's refusals of malformed requests). */
export function statusRefusalBody(
  code: number,
  message: string,
): { contentType: string; body: string } {
  return { contentType: "application/json", body: JSON.stringify(proxyStatus(code, message)) };
}
