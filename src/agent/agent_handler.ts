/**
 * What the agent does with each tunnelled request: send it to its own API server with its own
 * credentials, keeping the Impersonate-* headers the hub set after checking the caller (the
 * agent's ServiceAccount may only impersonate), and stream the answer back.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { Logger } from "../log/mod.ts";
import {
  forwardedHeaders,
  hasBody,
  rawHeaderLines,
  readBody,
  responseHeaders,
  spliceSockets,
  type Upstream,
  UpstreamUnavailableError,
  writeSocketStatus,
  writeStatus,
} from "../proxy/mod.ts";

/** Request and upgrade handlers for the agent's tunnel-side HTTP server. */
export interface AgentHandler {
  handleRequest(req: IncomingMessage, res: ServerResponse): void;
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Uint8Array): void;
}

const MAX_BODY_BYTES = 3 * 1024 * 1024;

/** Creates the handlers for one member cluster. */
export function createAgentHandler(
  member: Upstream,
  cluster: string,
  logger: Logger,
): AgentHandler {
  return {
    handleRequest(req, res) {
      (async () => {
        const body = hasBody(req) ? await readBody(req, MAX_BODY_BYTES) : undefined;
        if (body === "too-large") {
          writeStatus(res, 413, `The request body is larger than ${MAX_BODY_BYTES} bytes`, cluster);
          return;
        }
        const abort = new AbortController();
        res.once("close", () => {
          if (!res.writableFinished) abort.abort();
        });
        const upstream = await member.request({
          method: req.method ?? "GET",
          path: req.url ?? "/",
          headers: forwardedHeaders(req, { upgrade: false, keepImpersonation: true }),
          ...(body ? { body } : {}),
          signal: abort.signal,
        });
        logger.debug("request", { method: req.method, path: req.url, code: upstream.statusCode });
        res.writeHead(
          upstream.statusCode ?? 502,
          upstream.statusMessage ?? "",
          responseHeaders(upstream, cluster),
        );
        res.flushHeaders();
        upstream.pipe(res);
        upstream.once("error", () => res.destroy());
      })().catch((error) => {
        const unavailable = error instanceof UpstreamUnavailableError;
        logger.warn("member request failed", { path: req.url, error: (error as Error).message });
        writeStatus(res, unavailable ? 503 : 500, (error as Error).message, cluster);
      });
    },
    handleUpgrade(req, socket, head) {
      (async () => {
        const result = await member.upgrade({
          method: req.method ?? "GET",
          path: req.url ?? "/",
          headers: forwardedHeaders(req, { upgrade: true, keepImpersonation: true }),
        });
        const code = result.response.statusCode ?? 502;
        socket.write(
          `HTTP/1.1 ${code} ${result.response.statusMessage ?? ""}\r\n${
            rawHeaderLines(result.response, cluster, result.upgraded)
          }\r\n`,
        );
        if (!result.upgraded) {
          result.response.pipe(socket);
          return;
        }
        if (result.head.length > 0) socket.write(result.head);
        if (head.length > 0) result.socket.write(head);
        spliceSockets(socket, result.socket);
      })().catch((error) => {
        const unavailable = error instanceof UpstreamUnavailableError;
        writeSocketStatus(socket, unavailable ? 503 : 500, (error as Error).message);
      });
    },
  };
}
