/** Kubernetes Status objects for the errors the proxy itself produces, so that every client understands them. */
import type { ProxyResponse } from "../http1/mod.ts";
import type { Duplex } from "node:stream";
import { type Status, statusOf } from "../kube/mod.ts";
import { CLUSTER_HEADER } from "./headers.ts";

const REASONS: Record<number, string> = {
  400: "BadRequest",
  401: "Unauthorized",
  404: "NotFound",
  409: "Conflict",
  413: "RequestEntityTooLarge",
  500: "InternalError",
  501: "NotImplemented",
  503: "ServiceUnavailable",
};

/** A Status for a proxy-made error. */
export function proxyStatus(code: number, message: string): Status {
  return statusOf(code, REASONS[code] ?? "Unknown", message);
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
    ...(cluster ? { [CLUSTER_HEADER]: cluster } : {}),
  });
  res.end(body);
}

/** Answers an upgrade request on its raw socket with a Status, then closes it. */
export function writeSocketStatus(socket: Duplex, code: number, message: string): void {
  const body = JSON.stringify(proxyStatus(code, message));
  socket.end(
    `HTTP/1.1 ${code} ${REASONS[code] ?? "Error"}\r\ncontent-type: application/json\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
