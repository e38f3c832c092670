/** HTTP forwarding helpers shared by the proxy, the hub and the agent. */
import type { IncomingMessage } from "node:http";
import {
  headersFromRaw,
  pauseSocket,
  type ProxyRequest,
  type ProxyResponse,
  resumeSocket,
} from "../http1/mod.ts";

export { headersFromRaw };
import type { Duplex, Readable } from "node:stream";
import { queryFlag } from "./request_info.ts";
import { CLUSTER_HEADER } from "./status_response.ts";
import type { StreamBoundary } from "./stream_boundary.ts";

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

/** Path and query of a request target, without the cost of a full URL parse on every request. */
export function splitTarget(
  target: string,
): { pathname: string; search: string; searchParams: URLSearchParams } {
  const question = target.indexOf("?");
  const pathname = question < 0 ? target : target.slice(0, question);
  const search = question < 0 ? "" : target.slice(question);
  return {
    pathname,
    search,
    get searchParams() {
      return new URLSearchParams(search);
    },
  };
}

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

/** Response header lines for a raw socket (upgrades), with the cluster header. */
export function rawHeaderLines(
  response: Pick<IncomingMessage, "rawHeaders">,
  cluster: string,
  upgraded: boolean,
): string {
  const lines: string[] = [];
  const raw = response.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (!upgraded && (name === "transfer-encoding" || name === "connection")) continue;
    lines.push(`${raw[i]}: ${raw[i + 1]}`);
  }
  if (!upgraded) lines.push("connection: close");
  lines.push(`${CLUSTER_HEADER}: ${cluster}`);
  return lines.map((line) => line + "\r\n").join("");
}

/**
 * Joins two upgraded connections byte for byte. Each side stops reading while the other is full
 * (pauseSocket, not pipe: a piped TLS socket went on reading from the kernel, so a stalled
 * port-forward client grew the process). When one side closes, the other is ended, not
 * destroyed: what it still has to write (an exec's last frames, its status and the WebSocket
 * close, come just before the API server closes) goes out first, then it is closed; without
 * that, kubectl saw `close 1006 (abnormal closure)`. An error on either side destroys both.
 */
export function spliceSockets(a: Duplex, b: Duplex): void {
  relayBytes(a, b);
  relayBytes(b, a);
  const destroyBoth = () => {
    a.destroy();
    b.destroy();
  };
  for (const [side, other] of [[a, b], [b, a]] as const) {
    side.once("error", destroyBoth);
    side.once("close", () => closeAfterFlush(other));
  }
}

/** Copies `from` into `to`, pausing `from` while `to` is full; ends `to` when `from` ends. */
function relayBytes(from: Duplex, to: Duplex): void {
  let waiting = false;
  const resume = () => {
    waiting = false;
    resumeSocket(from);
  };
  from.on("data", (chunk: Uint8Array) => {
    if (!to.write(chunk) && !waiting) {
      waiting = true;
      pauseSocket(from);
      to.once("drain", resume);
    }
  });
  from.once("end", () => to.end());
}

/** How long a side may take to flush what it holds once its partner is gone. */
const FLUSH_GRACE_MS = 10_000;

function closeAfterFlush(socket: Duplex): void {
  if (socket.destroyed) return;
  if (socket.writableFinished) return void socket.destroy();
  socket.once("finish", () => socket.destroy());
  socket.end();
  // A peer that stops reading must not keep the connection forever.
  const timer = setTimeout(() => socket.destroy(), FLUSH_GRACE_MS);
  socket.once("close", () => clearTimeout(timer));
}

/**
 * True for requests whose answer is a stream (watch, logs -f): its headers go out at once. The
 * flags are read as kube-apiserver reads them (`watch=True`, `watch=t`, a bare `watch`...).
 */
export function isStreamingTarget(target: string): boolean {
  const { pathname, searchParams } = splitTarget(target);
  return queryFlag(searchParams, "watch") === true || queryFlag(searchParams, "follow") === true ||
    /^\/api(s\/[^/]+)?\/[^/]+\/watch\//.test(pathname);
}

/**
 * Copies a body to the client as it arrives, then ends the response; pauses the source while the
 * client is behind. Driven by the stream's events rather than `for await` (a promise per chunk).
 * A response with a Content-Length holds its latest chunk back and sends it with `end(chunk)`: a
 * small answer then leaves with its head in one write, and no write is ever empty (under
 * node:http, Deno 2.9's TLS socket never called back for the empty write `end()` made, and the
 * next request on that keep-alive connection waited forever). Chunked responses (watches, logs)
 * write each chunk at once.
 */
export function relayStream(
  source: Readable,
  res: ProxyResponse,
  hasContentLength: boolean,
  options: RelayStopOptions = {},
): Promise<void> {
  return new Promise((resolve) => {
    if (res.destroyed) {
      // The client left while the head was on its way.
      source.destroy();
      return resolve();
    }
    let held: Uint8Array | undefined;
    let stopping = false;
    let cutTimer: ReturnType<typeof setTimeout> | undefined;
    const resume = () => source.resume();
    const finish = () => {
      clearTimeout(cutTimer);
      source.destroy();
      res.end();
    };
    source.on("data", (chunk: Uint8Array) => {
      if (chunk.length === 0) return;
      const out = hasContentLength ? held : chunk;
      held = hasContentLength ? chunk : undefined;
      const complete = out && options.boundary?.push(out);
      if (out && stopping && complete !== undefined) {
        // The message in progress is whole now: send it, and end there.
        if (complete > 0) res.write(out.subarray(0, complete));
        return finish();
      }
      if (out && !res.write(out)) {
        source.pause();
        res.once("drain", resume);
      }
    });
    source.once("end", () => {
      clearTimeout(cutTimer);
      res.end(held);
      resolve();
    });
    source.once("error", () => {
      clearTimeout(cutTimer);
      res.destroy();
      resolve();
    });
    res.once("close", () => {
      clearTimeout(cutTimer);
      if (!res.writableFinished || stopping) source.destroy();
      options.stop?.removeEventListener("abort", stop);
      resolve();
    });
    function stop(): void {
      if (hasContentLength || !options.boundary || res.writableFinished) return;
      stopping = true;
      if (options.boundary.atBoundary()) return finish();
      // A message that never completes is cut after all.
      cutTimer = setTimeout(() => res.destroy(), options.cutAfterMs ?? 2_000);
    }
    if (options.stop?.aborted) stop();
    else options.stop?.addEventListener("abort", stop, { once: true });
  });
}

/** How a streamed answer ends when the proxy stops. */
export interface RelayStopOptions {
  /** Aborted when the server stops: the stream ends at its next message boundary. */
  stop?: AbortSignal;
  /** The stream's framing; without it a stop leaves the stream to the server's deadline. */
  boundary?: StreamBoundary;
  /** How long a stop waits for the message in progress to complete; default 2 s. */
  cutAfterMs?: number;
}
