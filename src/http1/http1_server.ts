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
import { Http1ServerResponse, type ResponseContext } from "./server_response.ts";
import { encodeResponseHead } from "./response_head.ts";
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
/** How long a client may take to finish its TLS handshake (Node's default is 120 s). */
export const HANDSHAKE_TIMEOUT_MS = 30_000;
const CONTINUE = Buffer.from("HTTP/1.1 100 Continue\r\n\r\n");
/** A listening server; `close` ends every connection. */
export interface Http1Server {
  readonly port: number;
  /** New connections use these certificate, key (and CA); open ones keep theirs. */
  setSecureContext(options: tls.SecureContextOptions): void;
  close(): Promise<void>;
  /**
   * From now on every answer asks its client to close the connection (`Connection: close`),
   * so clients that keep connections alive reconnect (through a Service, to another replica);
   * nothing is cut.
   */
  askToClose(): void;
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
  let closingSoon = false;
  const server = tls.createServer(
    { handshakeTimeout: HANDSHAKE_TIMEOUT_MS, ...options.tls },
    (socket) => {
      connections.set(socket, serveConnection(socket, handlers, () => closingSoon));
      socket.once("close", () => connections.delete(socket));
    },
  );
  // One sweep for all connections rather than a timer per request.
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [socket, connection] of connections) {
      const since = connection.idleSince();
      if (since !== undefined && now - since > IDLE_TIMEOUT_MS) socket.destroy();
    }
  }, IDLE_SWEEP_MS);
  Deno.unrefTimer(sweep);
  // A client that fails the handshake (wrong CA, plain HTTP) concerns only itself. Its socket is
  // closed here: with a listener, Deno leaves it open, and one that never finished its handshake
  // would hold a connection for ever (a slow-loris of TCP connects).
  server.on("tlsClientError", (_error, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.hostname, () => resolve());
  });
  return {
    port: (server.address() as { port: number }).port,
    setSecureContext: (context) => server.setSecureContext(context),
    askToClose: () => closingSoon = true,
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
export function serveConnection(
  socket: Socket,
  handlers: Http1Handlers,
  closingSoon: () => boolean = () => false,
): ServedConnection {
  socket.setNoDelay(true);
  const served = new ConnectionServer(socket, handlers, closingSoon);
  return { idleSince: () => served.idleSince, drain: () => served.drain() };
}

/** One connection's state: its parser, the exchange under way, and how it ends. */
class ConnectionServer {
  idleSince: number | undefined;
  #parser = new RequestParser();
  #exchange: { req: Http1ServerRequest; res: Http1ServerResponse } | undefined;
  #closing = false;
  #draining = false;
  #upgraded = false;

  constructor(
    private readonly socket: Socket,
    private readonly handlers: Http1Handlers,
    private readonly closingSoon: () => boolean,
  ) {
    socket.on("data", this.#onData);
    socket.on("end", this.#onEnd);
    socket.on("close", this.#onClose);
    socket.on("drain", this.#onDrain);
    socket.on("error", () => socket.destroy());
    this.#idle(true);
  }

  /** Closes the connection now if it waits for a request, else once the current answer is out. */
  drain(): void {
    this.#draining = true;
    // An upgraded connection belongs to its handler now: only the deadline cuts it.
    if (!this.#exchange && !this.#upgraded) this.socket.destroy();
  }

  #idle(on: boolean): void {
    this.idleSince = on ? Date.now() : undefined;
  }

  #onData = (data: Uint8Array): void => {
    let events: RequestEvent[];
    try {
      events = this.#parser.push(data);
    } catch (error) {
      return this.#refuse(error);
    }
    this.#handle(events);
  };

  #onEnd = (): void => {
    this.socket.destroy();
  };

  #onClose = (): void => {
    this.#exchange?.req.finish(new Error("the client closed the connection"));
    this.#exchange?.res.connectionClosed();
    this.#exchange = undefined;
  };

  #onDrain = (): void => {
    this.#exchange?.res.emit("drain");
  };

  /** The connection is handed to an upgrade handler: this server stops listening to it. */
  #detach(): void {
    this.socket.off("data", this.#onData);
    this.socket.off("end", this.#onEnd);
    this.socket.off("close", this.#onClose);
    this.socket.off("drain", this.#onDrain);
    this.idleSince = undefined;
  }

  /** Answers a request the parser refused, then closes: the framing cannot be trusted after. */
  #refuse(error: unknown): void {
    if (!(error instanceof RequestError) || this.#exchange) {
      this.socket.destroy();
      return;
    }
    const { contentType, body } = this.handlers.refusalBody?.(error.status, error.message) ??
      { contentType: "text/plain; charset=utf-8", body: error.message + "\n" };
    this.socket.end(
      encodeResponseHead(error.status, undefined, {
        "content-type": contentType,
        // A 405 says what is allowed (RFC 9110 §15.5.6).
        ...(error.status === 405 ? { allow: "GET, HEAD, POST, PUT, PATCH, DELETE" } : {}),
        "content-length": Buffer.byteLength(body),
        connection: "close",
      }) + body,
    );
  }

  #handle(events: RequestEvent[]): void {
    let started: (() => void) | undefined;
    for (const event of events) {
      if (this.#closing) return;
      if (event.type === "body") this.#exchange?.req.pushBody(event.chunk);
      else if (event.type === "end") this.#exchange?.req.finish();
      else if (event.type === "head") started = this.#begin(event.head);
      else {
        this.#detach();
        this.#upgraded = true;
        const req = new Http1ServerRequest(event.head, this.socket);
        req.finish();
        this.handlers.upgrade(req, this.socket, event.rest);
        return;
      }
    }
    // The handler starts once this batch is in, so a body that came with the head is complete.
    started?.();
  }

  #begin(head: RequestHead): () => void {
    this.#idle(false);
    const req = new Http1ServerRequest(head, this.socket);
    const res = new Http1ServerResponse(this.socket, this.#responseContext(head, req));
    this.#exchange = { req, res };
    if (head.expectsContinue) this.socket.write(CONTINUE);
    return () => {
      try {
        this.handlers.request(req, res);
      } catch {
        res.destroy();
      }
    };
  }

  /** How the response ends its exchange: keep-alive unless draining, then the next request. */
  #responseContext(head: RequestHead, req: Http1ServerRequest): ResponseContext {
    const draining = () => this.#draining || this.closingSoon();
    const done = (reusable: boolean) => {
      // Answered before the whole body arrived (413, say): the rest is not read.
      if (!reusable || !req.complete || this.#draining) {
        this.#closing = true;
        this.#exchange = undefined;
        this.socket.end();
      } else queueMicrotask(this.#next);
    };
    return {
      method: head.method,
      version: head.version,
      // Read when the head is written: a server shutting down asks the client to go.
      get keepAlive() {
        return head.keepAlive && !draining();
      },
      done,
    };
  }

  /** The exchange is over: read the next request, if one is waiting. */
  #next = (): void => {
    this.#exchange = undefined;
    this.#idle(true);
    let events: RequestEvent[];
    try {
      events = this.#parser.next();
    } catch (error) {
      return this.#refuse(error);
    }
    this.#handle(events);
  };
}
