/**
 * The answer to one request on the proxy's HTTP/1.1 server. Framing follows RFC 9112 §6: a
 * Content-Length when the handler gives one or ends without writing (the whole body is known),
 * chunked otherwise (streams), nothing for HEAD, 204 and 304; an HTTP/1.0 client without a
 * length gets a body that ends with the connection. Small heads and bodies go out as one write.
 * The framing is the server's: a handler relays answers from parties it does not trust (an
 * agent), so a body that disagrees with its Content-Length closes the connection instead of
 * leaving bytes the client would read as the next response.
 */
import { Buffer } from "node:buffer";
import { EventEmitter } from "node:events";
import type { Socket } from "node:net";
import type { OutgoingHeaders, ProxyResponse } from "./exchange.ts";
import { responseFieldError } from "./_message_head.ts";

/** What the connection tells a response, and learns from it. */
export interface ResponseContext {
  method: string;
  version: "1.0" | "1.1";
  keepAlive: boolean;
  /** Called once, when the response is complete (`reusable`: the connection may go on). */
  done(reusable: boolean): void;
}

const COALESCE_BYTES = 16 * 1024;
/**
 * How much may wait in the socket before writers are told to wait for "drain". The socket's own
 * mark is 16 KiB, below one 64 KiB chunk of a large answer: each chunk would pause the upstream.
 * A write past it still leads to "drain", as the socket's own answer was false too.
 */
const WRITE_HIGH_WATER = 256 * 1024;
const CRLF = Buffer.from("\r\n");
const LAST_CHUNK = Buffer.from("0\r\n\r\n");

/** One response; emits "drain" and "close" as node's ServerResponse does. */
export class Http1ServerResponse extends EventEmitter implements ProxyResponse {
  statusCode = 200;
  statusMessage = "";
  headersSent = false;
  writableFinished = false;
  #destroyed = false;
  #headers = new Map<string, [string, string | number | readonly string[]]>();
  #framing: "length" | "chunked" | "close" | "none" = "none";
  /** Bytes still owed to the Content-Length ("length" framing). */
  #owed = 0;
  #closed = false;

  constructor(private readonly socket: Socket, private readonly context: ResponseContext) {
    super();
  }

  get destroyed(): boolean {
    return this.#destroyed;
  }

  setHeader(name: string, value: string | number | readonly string[]): this {
    if (this.headersSent) throw new Error("headers were already sent");
    const error = headerError(name, value);
    if (error) throw new Error(error);
    this.#headers.set(name.toLowerCase(), [name, value]);
    return this;
  }

  writeHead(
    statusCode: number,
    messageOrHeaders?: string | OutgoingHeaders,
    headers?: OutgoingHeaders,
  ): this {
    if (this.headersSent) throw new Error("headers were already sent");
    const message = typeof messageOrHeaders === "string" ? messageOrHeaders : this.statusMessage;
    const given = Object.entries(
      (typeof messageOrHeaders === "object" ? messageOrHeaders : headers) ?? {},
    );
    // All or nothing: a refused head leaves none of its fields behind for the error answer.
    const error = finalStatusError(statusCode, message) ??
      given.map(([name, value]) => headerError(name, value)).find(Boolean);
    if (error) throw new Error(error);
    this.statusCode = statusCode;
    this.statusMessage = message;
    for (const [name, value] of given) this.#headers.set(name.toLowerCase(), [name, value]);
    return this;
  }

  flushHeaders(): void {
    if (!this.headersSent) this.#send(this.#head(undefined));
  }

  write(chunk: Uint8Array | string): boolean {
    if (this.writableFinished || this.#destroyed) return false;
    const bytes = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    const head = this.headersSent ? undefined : this.#head(undefined);
    if (bytes.length === 0) return head ? this.#send(head) : true;
    if (this.#overruns(bytes)) {
      if (head) this.#send(head);
      this.destroy();
      return false;
    }
    return this.#send(head, ...this.#framed(bytes));
  }

  end(chunk?: Uint8Array | string): this {
    if (this.writableFinished || this.#destroyed) return this;
    const bytes = chunk === undefined
      ? undefined
      : typeof chunk === "string"
      ? Buffer.from(chunk)
      : chunk;
    const head = this.headersSent ? undefined : this.#head(bytes?.length ?? 0);
    if (bytes && this.#overruns(bytes)) {
      if (head) this.#send(head);
      this.destroy();
      return this;
    }
    const parts = bytes && bytes.length > 0 ? this.#framed(bytes) : [];
    if (this.#framing === "chunked") parts.push(LAST_CHUNK);
    if (head || parts.length > 0) this.#send(head, ...parts);
    this.writableFinished = true;
    this.emit("finish");
    // A body shorter than its Content-Length: the client still waits for the rest, so the
    // connection ends here (a next answer on it would be read as that rest).
    const whole = this.#framing !== "length" || this.#owed === 0;
    this.context.done(this.context.keepAlive && this.#framing !== "close" && whole);
    this.#close();
    return this;
  }

  /** Aborts the response: closes the connection, unless the whole response is already out. */
  destroy(): this {
    // A complete response has nothing left to abort; cutting the connection could still lose
    // its last bytes (a stopping proxy ends merged watches, whose code then tidies up).
    if (this.writableFinished) return this;
    if (!this.#destroyed) {
      this.#destroyed = true;
      this.socket.destroy();
      this.#close();
    }
    return this;
  }

  /** From the connection: it closed (before or after this response ended). */
  connectionClosed(): void {
    if (!this.writableFinished) this.#destroyed = true;
    this.#close();
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.emit("close");
  }

  /** The head's bytes; `knownLength` is the whole body's size when end() comes first. */
  #head(knownLength: number | undefined): Buffer {
    const error = finalStatusError(this.statusCode, this.statusMessage);
    if (error) throw new Error(error);
    this.headersSent = true;
    const { method, version } = this.context;
    const bodiless = method === "HEAD" || this.statusCode === 204 || this.statusCode === 304 ||
      this.statusCode < 200;
    const has = (name: string) => this.#headers.has(name);
    if (bodiless) {
      this.#framing = "none";
      // HEAD announces the length of the body it does not send, as node does.
      if (method === "HEAD" && !has("content-length") && knownLength) {
        this.#headers.set("content-length", ["content-length", knownLength]);
      }
    } else if (has("content-length")) {
      this.#framing = "length";
      this.#owed = this.#declaredLength();
      // Both would let the client pick the other framing (RFC 9112 §6.3).
      this.#headers.delete("transfer-encoding");
    } else if (has("transfer-encoding")) {
      this.#framing = "chunked";
      this.#headers.set("transfer-encoding", ["transfer-encoding", "chunked"]);
    } else if (knownLength !== undefined) {
      this.#framing = "length";
      this.#owed = knownLength;
      this.#headers.set("content-length", ["content-length", knownLength]);
    } else if (version === "1.1") {
      this.#framing = "chunked";
      this.#headers.set("transfer-encoding", ["transfer-encoding", "chunked"]);
    } else this.#framing = "close";
    const keepAlive = this.context.keepAlive && this.#framing !== "close";
    this.#headers.set("connection", ["connection", keepAlive ? "keep-alive" : "close"]);
    if (keepAlive && version === "1.1") this.#headers.delete("connection");
    const lines = [
      `HTTP/1.1 ${this.statusCode} ${this.statusMessage || reasonOf(this.statusCode)}`,
    ];
    for (const [name, value] of this.#headers.values()) {
      for (const one of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${one}`);
    }
    return Buffer.from(lines.join("\r\n") + "\r\n\r\n", "latin1");
  }

  /** The Content-Length the handler gave (checked by headerError). */
  #declaredLength(): number {
    return Number(this.#headers.get("content-length")![1]);
  }

  /** Counts body bytes against the Content-Length; true when they would go beyond it. */
  #overruns(bytes: Uint8Array): boolean {
    if (this.#framing !== "length") return false;
    if (bytes.length > this.#owed) return true;
    this.#owed -= bytes.length;
    return false;
  }

  #framed(bytes: Uint8Array): Uint8Array[] {
    if (this.#framing === "none") return [];
    if (this.#framing !== "chunked") return [bytes];
    return [Buffer.from(`${bytes.length.toString(16)}\r\n`, "latin1"), bytes, CRLF];
  }

  /** Writes the pieces as one buffer when small, corked otherwise; false when the socket is full. */
  #send(head: Uint8Array | undefined, ...parts: Uint8Array[]): boolean {
    const pieces = head ? [head, ...parts] : parts;
    if (pieces.length === 0) return true;
    const size = pieces.reduce((sum, piece) => sum + piece.length, 0);
    if (pieces.length === 1 || size <= COALESCE_BYTES) {
      const ok = this.socket.write(pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces, size));
      return ok || this.socket.writableLength < WRITE_HIGH_WATER;
    }
    this.socket.cork();
    let ok = true;
    for (const piece of pieces) ok = this.socket.write(piece) && ok;
    this.socket.uncork();
    return ok || this.socket.writableLength < WRITE_HIGH_WATER;
  }
}

const REASONS: Record<number, string> = {
  101: "Switching Protocols",
  200: "OK",
  201: "Created",
  202: "Accepted",
  204: "No Content",
  304: "Not Modified",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  406: "Not Acceptable",
  409: "Conflict",
  410: "Gone",
  413: "Content Too Large",
  422: "Unprocessable Content",
  426: "Upgrade Required",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

/** Why a header cannot be written; a Content-Length must be one number (RFC 9110 §8.6). */
function headerError(name: string, value: string | number | readonly string[]): string | undefined {
  if (name.toLowerCase() === "content-length" && !/^\d{1,15}$/.test(String(value))) {
    return `invalid Content-Length "${String(value).slice(0, 40)}"`;
  }
  return responseFieldError({ name, value });
}

/** Why a status cannot end an exchange here: 1xx are interim, and 101 belongs to upgrades. */
function finalStatusError(status: number, reason: string): string | undefined {
  if (Number.isInteger(status) && status < 200) return `invalid final response status "${status}"`;
  return responseFieldError({ status, reason });
}

/** The reason phrase for a status the handler gave none for. */
export function reasonOf(status: number): string {
  return REASONS[status] ?? "Unknown";
}
