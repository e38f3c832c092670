/**
 * Kept-alive HTTP/1.1 connections to one upstream with one set of client credentials. An idle
 * connection the server closed meanwhile is noticed when a request finds it dead before any
 * answer byte, and the request goes out once more on a new connection (its body is in memory).
 */
import type { Socket } from "node:net";
import { ConnectionLostError, Http1Connection, type Http1Response } from "./http1_connection.ts";

/** A request as bytes: the method (for framing the answer), the head, the body if any. */
export interface Http1Request {
  method: string;
  head: Uint8Array;
  body?: Uint8Array;
}

/** A pool of connections made by `connect`. */
export class Http1Pool {
  readonly #connect: () => Socket;
  readonly #idle: Http1Connection[] = [];
  readonly #all = new Set<Http1Connection>();

  constructor(connect: () => Socket) {
    this.#connect = connect;
  }

  /**
   * Sends a request and resolves with the answer once its head is in. Aborting `signal`
   * (before or after that) closes the connection, ending the answer's body with an error.
   */
  async send(request: Http1Request, signal?: AbortSignal): Promise<Http1Response> {
    while (true) {
      signal?.throwIfAborted();
      const reused = this.#takeIdle();
      const connection = reused ?? this.#open();
      const abort = () => connection.destroy(signal!.reason as Error);
      signal?.addEventListener("abort", abort, { once: true });
      try {
        const response = await connection.send(request.method, request.head, request.body);
        const stopWatching = () => signal?.removeEventListener("abort", abort);
        response.once("end", stopWatching);
        response.once("close", stopWatching);
        return response;
      } catch (error) {
        signal?.removeEventListener("abort", abort);
        if (reused && error instanceof ConnectionLostError && !signal?.aborted) continue;
        throw error;
      }
    }
  }

  /** Closes every connection, idle or busy. */
  close(): void {
    for (const connection of this.#all) connection.destroy();
    this.#all.clear();
    this.#idle.length = 0;
  }

  #takeIdle(): Http1Connection | undefined {
    // The most recently used first: it is the least likely to have timed out.
    for (let connection = this.#idle.pop(); connection; connection = this.#idle.pop()) {
      if (!connection.closed) return connection;
      this.#all.delete(connection);
    }
    return undefined;
  }

  #open(): Http1Connection {
    const connection = new Http1Connection(this.#connect(), (done) => this.#idle.push(done));
    this.#all.add(connection);
    connection.socket.once("close", () => this.#all.delete(connection));
    return connection;
  }
}

const FORBIDDEN_IN_HEADERS = /[\r\n\0]/;

/** The bytes of a request head; refuses header names or values that would break the framing. */
export function encodeRequestHead(
  method: string,
  path: string,
  host: string,
  headers: Record<string, string | string[]>,
): Uint8Array {
  const lines = [`${method} ${path} HTTP/1.1`, `host: ${host}`];
  for (const [name, value] of Object.entries(headers)) {
    if (name.toLowerCase() === "host") continue;
    for (const one of Array.isArray(value) ? value : [value]) {
      if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name) || FORBIDDEN_IN_HEADERS.test(one)) {
        throw new Error(`invalid request header "${name}"`);
      }
      lines.push(`${name}: ${one}`);
    }
  }
  if (!/^[A-Z]+$/.test(method) || /[\s\0]/.test(path)) {
    throw new Error(`invalid request line "${method} ${path.slice(0, 100)}"`);
  }
  return new TextEncoder().encode(lines.join("\r\n") + "\r\n\r\n");
}
