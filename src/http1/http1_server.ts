/**
 * The proxy's HTTP/1.1 server on node:tls sockets (TCP_NODELAY), one exchange at a time per
 * connection. node:http's server cost as much CPU per request as the rest of a pass-through
 * proxy together (bench/stacks, docs/benchmarks.md). A client that closes its connection ends the exchange, so a watch
 * nobody reads any more stops upstream too.
 */
import { Buffer } from "node:buffer";
import type { Duplex } from "node:stream";
import type { Socket } from "node:net";
import tls from "node:tls";
import { Http1ServerRequest } from "./server_request.ts";
import { Http1ServerResponse, reasonOf } from "./server_response.ts";
import {
  RequestError,
  type RequestEvent,
  type RequestHead,
  RequestParser,
} from "./request_parser.ts";

/** What the server calls for each request. */
export interface Http1Handlers {
  request(req: Http1ServerRequest, res: Http1ServerResponse): void;
  upgrade(req: Http1ServerRequest, socket: Duplex, head: Uint8Array): void;
  /**
   * The body of the answer to a request the parser refused (malformed, too large, an unserved
   * method); plain text when absent. The API paths answer with a Kubernetes Status.
   */
  refusalBody?(status: number, message: string): { contentType: string; body: string };
}

/** How long a kept-alive connection may sit without a request. */
export const IDLE_TIMEOUT_MS = 120_000;
const IDLE_SWEEP_MS = 10_000;
const CONTINUE = Buffer.from("HTTP/1.1 100 Continue\r\n\r\n");
/** A listening server; `close` ends every connection. */
export interface Http1Server {
  readonly port: number;
  /** New connections use these certificate, key (and CA); open ones keep theirs. */
  setSecureContext(options: tls.SecureContextOptions): void;
  close(): Promise<void>;
  /**
   * Stops accepting, closes idle connections at once and the others as soon as their current
   * exchange is answered (with `Connection: close` when its head is still to come), and cuts
   * whatever is still open after `graceMs` (upgraded connections among them). Resolves with the
   * number of connections that were cut.
   */
  shutdown(graceMs: number): Promise<number>;
}

/** Listens with TLS on `hostname:port` and serves every connection with `handlers`. */
export async function listenHttp1(
  options: { hostname: string; port: number; tls: tls.TlsOptions },
  handlers: Http1Handlers,
): Promise<Http1Server> {
  const connections = new Map<Socket, ServedConnection>();
  const server = tls.createServer(options.tls, (socket) => {
    connections.set(socket, serveConnection(socket, handlers));
    socket.once("close", () => connections.delete(socket));
  });
  // One sweep for all connections rather than a timer per request.
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [socket, connection] of connections) {
      const since = connection.idleSince();
      if (since !== undefined && now - since > IDLE_TIMEOUT_MS) socket.destroy();
    }
  }, IDLE_SWEEP_MS);
  Deno.unrefTimer(sweep);
  // A client that fails the handshake (wrong CA, plain HTTP) concerns only itself.
  server.on("tlsClientError", () => {});
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.hostname, () => resolve());
  });
  return {
    port: (server.address() as { port: number }).port,
    setSecureContext: (context) => server.setSecureContext(context),
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(sweep);
        for (const socket of connections.keys()) socket.destroy();
        server.close(() => resolve());
      }),
    async shutdown(graceMs) {
      clearInterval(sweep);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const connection of connections.values()) connection.drain();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const cut = await new Promise<number>((resolve) => {
        const check = () => {
          if (connections.size === 0) resolve(0);
        };
        for (const socket of connections.keys()) socket.once("close", check);
        check();
        timer = setTimeout(() => {
          const left = connections.size;
          for (const socket of connections.keys()) socket.destroy();
          resolve(left);
        }, graceMs);
      });
      clearTimeout(timer);
      await closed;
      return cut;
    },
  };
}

/** A connection being served: since when it waits for a request (undefined while busy). */
export interface ServedConnection {
  idleSince(): number | undefined;
  /** Closes the connection now if it waits for a request, else once the current answer is out. */
  drain(): void;
}

/** Serves the requests of one connection until it closes or is upgraded. */
export function serveConnection(socket: Socket, handlers: Http1Handlers): ServedConnection {
  socket.setNoDelay(true);
  const parser = new RequestParser();
  let exchange: { req: Http1ServerRequest; res: Http1ServerResponse } | undefined;
  let closing = false;
  let draining = false;
  let upgraded = false;

  let idleSince: number | undefined;
  const idle = (on: boolean) => idleSince = on ? Date.now() : undefined;
  const onData = (data: Uint8Array) => {
    let events: RequestEvent[];
    try {
      events = parser.push(data);
    } catch (error) {
      return refuse(error);
    }
    handle(events);
  };
  const onEnd = () => socket.destroy();
  const onClose = () => {
    exchange?.req.finish(new Error("the client closed the connection"));
    exchange?.res.connectionClosed();
    exchange = undefined;
  };
  const onDrain = () => exchange?.res.emit("drain");
  const detach = () => {
    socket.off("data", onData);
    socket.off("end", onEnd);
    socket.off("close", onClose);
    socket.off("drain", onDrain);
    idleSince = undefined;
  };
  socket.on("data", onData);
  socket.on("end", onEnd);
  socket.on("close", onClose);
  socket.on("drain", onDrain);
  socket.on("error", () => socket.destroy());
  idle(true);
  return {
    idleSince: () => idleSince,
    drain() {
      draining = true;
      // An upgraded connection belongs to its handler now: only the deadline cuts it.
      if (!exchange && !upgraded) socket.destroy();
    },
  };

  /** Answers a request the parser refused, then closes: the framing cannot be trusted after. */
  function refuse(error: unknown): void {
    if (!(error instanceof RequestError) || exchange) {
      socket.destroy();
      return;
    }
    const { contentType, body } = handlers.refusalBody?.(error.status, error.message) ??
      { contentType: "text/plain; charset=utf-8", body: error.message + "\n" };
    // A 405 says what is allowed (RFC 9110 §15.5.6).
    const allow = error.status === 405 ? "allow: GET, HEAD, POST, PUT, PATCH, DELETE\r\n" : "";
    socket.end(
      `HTTP/1.1 ${error.status} ${reasonOf(error.status)}\r\ncontent-type: ${contentType}\r\n` +
        `${allow}content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  }

  function handle(events: RequestEvent[]): void {
    let started: (() => void) | undefined;
    for (const event of events) {
      if (closing) return;
      if (event.type === "body") exchange?.req.pushBody(event.chunk);
      else if (event.type === "end") exchange?.req.finish();
      else if (event.type === "head") started = begin(event.head);
      else {
        detach();
        upgraded = true;
        const req = new Http1ServerRequest(event.head, socket);
        req.finish();
        handlers.upgrade(req, socket, event.rest);
        return;
      }
    }
    // The handler starts once this batch is in, so a body that came with the head is complete.
    started?.();
  }

  function begin(head: RequestHead): () => void {
    idle(false);
    const req = new Http1ServerRequest(head, socket);
    const res = new Http1ServerResponse(socket, {
      method: head.method,
      version: head.version,
      // Read when the head is written: a server shutting down asks the client to go.
      get keepAlive() {
        return head.keepAlive && !draining;
      },
      done(reusable) {
        // Answered before the whole body arrived (413, say): the rest is not read.
        if (!reusable || !req.complete || draining) {
          closing = true;
          exchange = undefined;
          socket.end();
        } else queueMicrotask(next);
      },
    });
    exchange = { req, res };
    if (head.expectsContinue) socket.write(CONTINUE);
    return () => {
      try {
        handlers.request(req, res);
      } catch {
        res.destroy();
      }
    };
  }

  /** The exchange is over: read the next request, if one is waiting. */
  function next(): void {
    exchange = undefined;
    idle(true);
    let events: RequestEvent[];
    try {
      events = parser.next();
    } catch (error) {
      return refuse(error);
    }
    handle(events);
  }
}
