/**
 * Reads HTTP/1.1 requests from the bytes of a server connection (pure): a head, then the body
 * its framing declares (chunked or Content-Length; none otherwise), one request at a time. The
 * bytes of a next (pipelined) request wait until `next()`. A request asking to switch protocols
 * ends the parsing: what follows its head belongs to the new protocol.
 */
import { requestTargetError } from "../request_target.ts";
import {
  type HeaderFields,
  headerTokens,
  headerValues,
  indexOfHeadEnd,
  keepsAlive,
  latin1Text,
  parseHeaderLines,
  printable,
} from "./_message_head.ts";
import { BodyDecoder, framingOf } from "./body_decoder.ts";

/** A request line and its headers. */
export interface RequestHead {
  method: string;
  /** The request target as sent (origin form: path and query). */
  target: string;
  version: "1.0" | "1.1";
  /** Name, value, name, value... as node's IncomingMessage.rawHeaders. */
  rawHeaders: string[];
  keepAlive: boolean;
  /** The client asked to switch protocols (WebSocket, SPDY). */
  upgrade: boolean;
  /** The client waits for "100 Continue" before sending its body. */
  expectsContinue: boolean;
}

/** What pushing bytes produced, in order. */
export type RequestEvent =
  | { type: "head"; head: RequestHead }
  | { type: "body"; chunk: Uint8Array }
  | { type: "end" }
  /** An upgrade request's head was read; `rest` is the first bytes of the new protocol. */
  | { type: "upgrade"; head: RequestHead; rest: Uint8Array };

/** A request the parser refuses, with the status to answer before closing. */
export class RequestError extends Error {
  constructor(readonly status: 400 | 405 | 431 | 501, message: string) {
    super(message);
    this.name = "RequestError";
  }
}

/** Largest request head; Go's net/http allows 1 MiB, node 16 KiB. */
export const MAX_REQUEST_HEAD_BYTES = 256 * 1024;
const METHOD = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/**
 * The methods the Kubernetes API serves. Methods are case-sensitive tokens (RFC 9110 §9.1): Go's
 * net/http reads "get" as a method, and kube-apiserver answers it, like any other method, 405.
 */
const SERVED_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]);

/** Parses the requests of one connection. */
export class RequestParser {
  #pending: Uint8Array = new Uint8Array(0);
  /** Storage #pending may end in, with room to grow, and where its used part ends. */
  #store: Uint8Array | undefined;
  #storeEnd = 0;
  /** How much of #pending was already searched for the end of a head. */
  #scanned = 0;
  #body: BodyDecoder | undefined;
  /** Between the end of one request and `next()`; also after an upgrade, for good. */
  #waiting = false;

  /** Feeds bytes from the connection; throws RequestError on a malformed request. */
  push(bytes: Uint8Array): RequestEvent[] {
    if (bytes.length > 0) this.#append(bytes);
    const events: RequestEvent[] = [];
    while (!this.#waiting && this.#pending.length > 0) {
      if (!this.#body) {
        if (!this.#readHead(events)) break;
        continue;
      }
      const step = this.#decodeBody();
      for (const chunk of step.chunks) events.push({ type: "body", chunk });
      this.#pending = step.rest;
      if (!step.done) break;
      this.#endRequest(events);
    }
    if (this.#waiting && this.#pending.length > MAX_REQUEST_HEAD_BYTES) {
      // A client that pipelines more than a head's worth is not waited for.
      throw new RequestError(400, "too many pipelined bytes");
    }
    return events;
  }

  /** Bytes already received that wait for the current request to be answered. */
  get buffered(): number {
    return this.#waiting ? this.#pending.length : 0;
  }

  /** The current request was answered: reads the next one from what is buffered. */
  next(): RequestEvent[] {
    this.#waiting = false;
    return this.push(new Uint8Array(0));
  }

  /**
   * Adds bytes to #pending. A head that arrives in many small pieces (a TLS record per byte)
   * is copied into storage that doubles when full, not joined anew each time, and only its new
   * bytes are searched: both were quadratic in the head's size.
   */
  #append(bytes: Uint8Array): void {
    const pending = this.#pending;
    if (pending.length === 0) {
      this.#pending = bytes;
      return;
    }
    const store = this.#store;
    const end = pending.byteOffset + pending.length;
    const size = pending.length + bytes.length;
    if (
      store && pending.buffer === store.buffer && end === this.#storeEnd &&
      end + bytes.length <= store.byteLength
    ) {
      store.set(bytes, end);
      this.#storeEnd = end + bytes.length;
      this.#pending = store.subarray(pending.byteOffset, this.#storeEnd);
      return;
    }
    const next = new Uint8Array(Math.max(2 * size, 4096));
    next.set(pending);
    next.set(bytes, pending.length);
    this.#store = next;
    this.#storeEnd = size;
    this.#pending = next.subarray(0, size);
  }

  #decodeBody() {
    try {
      return this.#body!.push(this.#pending);
    } catch (error) {
      throw new RequestError(400, (error as Error).message);
    }
  }

  #readHead(events: RequestEvent[]): boolean {
    const data = this.#pending;
    // Empty lines before a request line are ignored (RFC 9112 §2.2).
    let start = 0;
    while (data[start] === 13 || data[start] === 10) start++;
    const end = indexOfHeadEnd(data, Math.max(start, this.#scanned - 3));
    if (end < 0) {
      if (data.length > MAX_REQUEST_HEAD_BYTES) {
        throw new RequestError(431, "the request head is too large");
      }
      if (start > 0) this.#pending = data.subarray(start);
      this.#scanned = data.length - start;
      return false;
    }
    this.#scanned = 0;
    if (end - start > MAX_REQUEST_HEAD_BYTES) {
      throw new RequestError(431, "the request head is too large");
    }
    const { fields, ...head } = readRequestHead(latin1Text(data.subarray(start, end)));
    this.#pending = data.subarray(end + 4);
    if (head.upgrade) {
      events.push({ type: "upgrade", head, rest: this.#pending });
      this.#pending = new Uint8Array(0);
      this.#waiting = true;
      return true;
    }
    let framing;
    try {
      framing = framingOf(fields, "none");
    } catch (error) {
      const message = (error as Error).message;
      throw new RequestError(message.startsWith("unsupported") ? 501 : 400, message);
    }
    events.push({ type: "head", head });
    this.#body = new BodyDecoder(framing);
    if (this.#body.done) this.#endRequest(events);
    return true;
  }

  #endRequest(events: RequestEvent[]): void {
    events.push({ type: "end" });
    this.#body = undefined;
    this.#waiting = true;
  }
}

/** Parses "GET /path HTTP/1.1" and the header lines. */
export function parseRequestHead(text: string): RequestHead {
  const { fields: _, ...head } = readRequestHead(text);
  return head;
}

function readRequestHead(text: string): RequestHead & { fields: HeaderFields } {
  const lines = text.split("\r\n");
  const parts = (lines[0] ?? "").split(" ");
  const [method, target, protocol] = parts;
  if (
    parts.length !== 3 || !METHOD.test(method!) || !target ||
    (protocol !== "HTTP/1.1" && protocol !== "HTTP/1.0")
  ) {
    throw new RequestError(400, `invalid request line "${printable(lines[0] ?? "")}"`);
  }
  // Origin form only, in visible ASCII, with no way out of a server's path prefix.
  const targetError = requestTargetError(target!);
  if (targetError) throw new RequestError(400, targetError);
  if (!SERVED_METHODS.has(method!)) {
    throw new RequestError(405, `the method "${method}" is not allowed`);
  }
  let fields: HeaderFields;
  try {
    fields = parseHeaderLines(lines.slice(1));
  } catch (error) {
    throw new RequestError(400, (error as Error).message);
  }
  const version = protocol === "HTTP/1.1" ? "1.1" : "1.0";
  if (version === "1.1" && headerValues(fields, "host").length !== 1) {
    throw new RequestError(400, "an HTTP/1.1 request needs exactly one Host header");
  }
  // HTTP/1.0 has no transfer codings: a server must treat such framing as faulty (RFC 9112
  // §6.1), as an intermediary in front may have framed the body by its Content-Length instead.
  if (version === "1.0" && headerValues(fields, "transfer-encoding").length > 0) {
    throw new RequestError(400, "an HTTP/1.0 request cannot use Transfer-Encoding");
  }
  return {
    method: method!,
    target,
    version,
    rawHeaders: fields.raw,
    fields,
    keepAlive: keepsAlive(version, fields),
    upgrade: headerValues(fields, "upgrade").length > 0 &&
      headerTokens(fields, "connection").includes("upgrade"),
    expectsContinue: version === "1.1" &&
      headerValues(fields, "expect").some((v) => v.toLowerCase() === "100-continue"),
  };
}
