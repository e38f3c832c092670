/**
 * Kept-alive HTTP/1.1 connections to one upstream with one set of client credentials. An idle
 * connection the server closed meanwhile is noticed when a request finds it dead before any
 * answer byte, and the request goes out once more on a new connection (its body is in memory).
 */
import type { Socket } from "node:net";
import { latin1Bytes } from "./_message_head.ts";
import { ConnectionLostError, Http1Connection, type Http1Response } from "./http1_connection.ts";

/** A request as bytes: the method (for framing the answer), the head, the body if any. */
export interface Http1Request {
  method: string;
  head: Uint8Array;
  body?: Uint8Array;
}

/** How a sent request may end before its answer's head: a deadline, a caller that leaves. */
export interface SendOptions {
  /** Aborting (before or after the head) closes the connection, ending the body with an error. */
  signal?: AbortSignal;
  /** Longest wait for the head, in milliseconds. */
  timeoutMs?: number;
}

/** No answer's head within the request's timeout. */
export class ResponseTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`no response within ${timeoutMs / 1000} s`);
    this.name = "ResponseTimeoutError";
  }
}

/** How often waiting requests are checked against their deadline (one timer per pool). */
const DEADLINE_CHECK_MS = 250;
/** Connections per pool; more requests wait for one (what node's agent did for the proxy). */
export const MAX_CONNECTIONS = 256;

/** A request waiting for a connection because all of them are busy. */
interface Waiter {
  resolve(connection: Http1Connection): void;
  reject(error: Error): void;
}

/** A pool of connections made by `connect`. */
export class Http1Pool {
  readonly #connect: () => Socket;
  readonly #maxConnections: number;
  readonly #idle: Http1Connection[] = [];
  readonly #all = new Set<Http1Connection>();
  readonly #waiters: Waiter[] = [];
  /** Requests waiting for a connection or an answer's head: when to give up, and how. */
  readonly #deadlines = new Map<object, { at: number; fail(): void }>();
  #deadlineTimer: ReturnType<typeof setInterval> | undefined;

  constructor(connect: () => Socket, maxConnections = MAX_CONNECTIONS) {
    this.#connect = connect;
    this.#maxConnections = maxConnections;
  }

  /** Sends a request and resolves with the answer once its head is in. */
  async send(request: Http1Request, options: SendOptions = {}): Promise<Http1Response> {
    const { signal, timeoutMs } = options;
    const deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
    const timeout = () => new ResponseTimeoutError(timeoutMs!);
    while (true) {
      signal?.throwIfAborted();
      const reused = this.#takeIdle();
      const connection = reused ??
        (this.#all.size < this.#maxConnections
          ? this.#open()
          : await this.#waitForConnection(signal, deadline, timeout));
      const abort = () => connection.destroy(signal!.reason as Error);
      signal?.addEventListener("abort", abort, { once: true });
      if (deadline !== undefined) {
        this.#watchDeadline(connection, deadline, () => connection.destroy(timeout()));
      }
      try {
        const response = await connection.send(request.method, request.head, request.body);
        if (signal) {
          const stopWatching = () => signal.removeEventListener("abort", abort);
          response.once("end", stopWatching);
          response.once("close", stopWatching);
        }
        return response;
      } catch (error) {
        signal?.removeEventListener("abort", abort);
        const wasIdle = reused || connection.completed > 0;
        if (wasIdle && error instanceof ConnectionLostError && !signal?.aborted) continue;
        throw error;
      } finally {
        this.#deadlines.delete(connection);
      }
    }
  }

  /** Closes every connection, idle or busy, and fails the requests waiting for one. */
  close(): void {
    for (const connection of this.#all) connection.destroy();
    this.#all.clear();
    this.#idle.length = 0;
    for (const waiter of this.#waiters.splice(0)) waiter.reject(new Error("the pool closed"));
    clearInterval(this.#deadlineTimer);
    this.#deadlineTimer = undefined;
  }

  #waitForConnection(
    signal: AbortSignal | undefined,
    deadline: number | undefined,
    timeout: () => Error,
  ): Promise<Http1Connection> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve: (connection) => {
          settle();
          resolve(connection);
        },
        reject: (error) => {
          settle();
          reject(error);
        },
      };
      const leave = (error: Error) => {
        const index = this.#waiters.indexOf(waiter);
        if (index >= 0) this.#waiters.splice(index, 1);
        waiter.reject(error);
      };
      const onAbort = () => leave(signal!.reason as Error);
      const settle = () => {
        signal?.removeEventListener("abort", onAbort);
        this.#deadlines.delete(waiter);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      if (deadline !== undefined) this.#watchDeadline(waiter, deadline, () => leave(timeout()));
      this.#waiters.push(waiter);
    });
  }

  #watchDeadline(key: object, at: number, fail: () => void): void {
    this.#deadlines.set(key, { at, fail });
    if (this.#deadlineTimer !== undefined) return;
    const timer = setInterval(() => {
      const now = Date.now();
      for (const [waiting, deadline] of this.#deadlines) {
        if (deadline.at > now) continue;
        this.#deadlines.delete(waiting);
        deadline.fail();
      }
      if (this.#deadlines.size === 0) {
        clearInterval(timer);
        this.#deadlineTimer = undefined;
      }
    }, DEADLINE_CHECK_MS);
    this.#deadlineTimer = timer;
    // Waiting requests keep the process alive through their sockets, not this timer.
    Deno.unrefTimer(timer);
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
    const connection = new Http1Connection(this.#connect(), (done) => this.#reusable(done));
    this.#all.add(connection);
    connection.socket.once("close", () => {
      this.#all.delete(connection);
      // A place became free: the longest-waiting request gets a new connection.
      const waiter = this.#waiters.shift();
      if (waiter) waiter.resolve(this.#open());
    });
    return connection;
  }

  /** A connection finished an exchange: to a waiting request, or back to the idle list. */
  #reusable(connection: Http1Connection): void {
    const waiter = this.#waiters.shift();
    if (waiter) waiter.resolve(connection);
    else this.#idle.push(connection);
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
  return latin1Bytes(lines.join("\r\n") + "\r\n\r\n");
}
