/**
 * Reads one HTTP/1.1 response from the bytes of a connection (pure): the head, then the body as
 * its framing says (RFC 9112 §6: no body for HEAD, 1xx, 204 and 304; chunked; Content-Length;
 * else until the connection closes). Body chunks are views of the pushed bytes, not copies.
 * node:http's client costs more CPU than the TLS under it (bench/stacks); this is the part of
 * its work an upstream client needs.
 */
import { concatBytes } from "../../bytes.ts";

/** A response's status line and headers, names as sent. */
export interface ResponseHead {
  status: number;
  statusText: string;
  /** Name, value, name, value... as node's IncomingMessage.rawHeaders. */
  rawHeaders: string[];
}

/** What pushing bytes produced, in order. */
export type ResponseEvent =
  | { type: "head"; head: ResponseHead }
  | { type: "body"; chunk: Uint8Array }
  /** The response is complete; `reusable` says whether the connection may carry another one. */
  | { type: "end"; reusable: boolean };

const CR = 13, LF = 10;
const MAX_HEAD_BYTES = 1024 * 1024;
const MAX_CHUNK_LINE_BYTES = 4096;
const latin1 = new TextDecoder("latin1");

type Framing =
  | { kind: "length"; remaining: number }
  | { kind: "chunked"; state: "size" | "data" | "data-end" | "trailers"; remaining: number }
  | { kind: "close" };

/** Parses the response to one request; throws on a malformed one. */
export class ResponseParser {
  readonly #method: string;
  #pending: Uint8Array = new Uint8Array(0);
  #framing: Framing | undefined;
  #keepAlive = false;
  #finished = false;

  constructor(method: string) {
    this.#method = method.toUpperCase();
  }

  /** True once the "end" event was produced. */
  get finished(): boolean {
    return this.#finished;
  }

  /** Feeds bytes from the connection. */
  push(bytes: Uint8Array): ResponseEvent[] {
    if (bytes.length === 0) return [];
    if (this.#finished) {
      // Bytes after a complete answer to a request nobody sent: the connection is broken.
      throw new Error("the server sent data after the end of the response");
    }
    const events: ResponseEvent[] = [];
    let data = this.#pending.length > 0 ? concatBytes([this.#pending, bytes]) : bytes;
    this.#pending = new Uint8Array(0);
    while (data.length > 0 && !this.#finished) {
      data = this.#framing ? this.#readBody(data, events) : this.#readHead(data, events);
    }
    if (this.#finished && data.length > 0) {
      throw new Error("the server sent data after the end of the response");
    }
    return events;
  }

  /** The connection closed: ends a body that runs until close, or fails an unfinished one. */
  close(): ResponseEvent[] {
    if (this.#finished) return [];
    if (this.#framing?.kind === "close") return this.#finish(false);
    throw new Error(
      this.#framing
        ? "the connection closed before the end of the response body"
        : "the connection closed before a response",
    );
  }

  #readHead(data: Uint8Array, events: ResponseEvent[]): Uint8Array {
    const end = indexOfHeadEnd(data);
    if (end < 0) {
      if (data.length > MAX_HEAD_BYTES) throw new Error("the response head is too large");
      this.#pending = data;
      return new Uint8Array(0);
    }
    const head = parseHead(latin1.decode(data.subarray(0, end)));
    const rest = data.subarray(end + 4);
    // Informational answers (100 Continue, 103 Early Hints) precede the real one.
    if (head.status >= 100 && head.status < 200) {
      if (head.status === 101) throw new Error("unexpected 101 Switching Protocols");
      return rest;
    }
    events.push({ type: "head", head });
    this.#keepAlive = keepsAlive(head);
    this.#framing = framingOf(head, this.#method);
    if (this.#framing.kind === "length" && this.#framing.remaining === 0) {
      events.push(...this.#finish(this.#keepAlive));
    }
    return rest;
  }

  #readBody(data: Uint8Array, events: ResponseEvent[]): Uint8Array {
    const framing = this.#framing!;
    if (framing.kind === "close") {
      events.push({ type: "body", chunk: data });
      return new Uint8Array(0);
    }
    if (framing.kind === "length") {
      const take = Math.min(framing.remaining, data.length);
      events.push({ type: "body", chunk: data.subarray(0, take) });
      framing.remaining -= take;
      if (framing.remaining === 0) events.push(...this.#finish(this.#keepAlive));
      return data.subarray(take);
    }
    return this.#readChunked(framing, data, events);
  }

  #readChunked(
    framing: Extract<Framing, { kind: "chunked" }>,
    data: Uint8Array,
    events: ResponseEvent[],
  ): Uint8Array {
    if (framing.state === "data") {
      const take = Math.min(framing.remaining, data.length);
      events.push({ type: "body", chunk: data.subarray(0, take) });
      framing.remaining -= take;
      if (framing.remaining === 0) framing.state = "data-end";
      return data.subarray(take);
    }
    const lineEnd = data.indexOf(LF);
    if (lineEnd < 0) {
      if (data.length > MAX_CHUNK_LINE_BYTES) throw new Error("a chunk line is too long");
      this.#pending = data;
      return new Uint8Array(0);
    }
    const line = latin1.decode(data.subarray(0, lineEnd)).replace(/\r$/, "");
    const rest = data.subarray(lineEnd + 1);
    if (framing.state === "data-end") {
      if (line !== "") throw new Error("a chunk is longer than its size");
      framing.state = "size";
    } else if (framing.state === "size") {
      // Chunk extensions (";name=value") carry nothing a proxy needs.
      const size = line.split(";", 1)[0]!.trim();
      if (!/^[0-9a-fA-F]{1,12}$/.test(size)) throw new Error(`invalid chunk size "${size}"`);
      framing.remaining = parseInt(size, 16);
      framing.state = framing.remaining === 0 ? "trailers" : "data";
    } else if (line === "") {
      // Trailer fields end with an empty line; kube-apiserver sends none.
      events.push(...this.#finish(this.#keepAlive));
    }
    return rest;
  }

  #finish(reusable: boolean): ResponseEvent[] {
    this.#finished = true;
    return [{ type: "end", reusable }];
  }
}

function indexOfHeadEnd(data: Uint8Array): number {
  for (let i = data.indexOf(CR); i >= 0 && i + 3 < data.length; i = data.indexOf(CR, i + 1)) {
    if (data[i + 1] === LF && data[i + 2] === CR && data[i + 3] === LF) return i;
  }
  return -1;
}

/** Parses "HTTP/1.1 200 OK" and the header lines. */
export function parseHead(text: string): ResponseHead & { version: string } {
  const lines = text.split("\r\n");
  const match = /^HTTP\/(1\.[01]) (\d{3})(?: (.*))?$/.exec(lines[0] ?? "");
  if (!match) throw new Error(`invalid status line "${(lines[0] ?? "").slice(0, 100)}"`);
  const rawHeaders: string[] = [];
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    // Obsolete line folding (a line starting with whitespace) is refused, as RFC 9112 allows.
    if (colon <= 0 || /^\s/.test(line) || /\s/.test(line.slice(0, colon))) {
      throw new Error(`invalid header line "${line.slice(0, 100)}"`);
    }
    rawHeaders.push(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return {
    version: match[1]!,
    status: Number(match[2]),
    statusText: match[3] ?? "",
    rawHeaders,
  };
}

function headerValues(head: ResponseHead, name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i < head.rawHeaders.length; i += 2) {
    if (head.rawHeaders[i]!.toLowerCase() === name) values.push(head.rawHeaders[i + 1]!);
  }
  return values;
}

function keepsAlive(head: ResponseHead & { version?: string }): boolean {
  const tokens = headerValues(head, "connection").flatMap((v) => v.toLowerCase().split(","));
  if (tokens.some((token) => token.trim() === "close")) return false;
  return head.version !== "1.0" || tokens.some((token) => token.trim() === "keep-alive");
}

function framingOf(head: ResponseHead, method: string): Framing {
  if (method === "HEAD" || head.status === 204 || head.status === 304) {
    return { kind: "length", remaining: 0 };
  }
  const codings = headerValues(head, "transfer-encoding")
    .flatMap((v) => v.toLowerCase().split(","))
    .map((coding) => coding.trim())
    .filter(Boolean);
  if (codings.length > 0) {
    return codings.at(-1) === "chunked"
      ? { kind: "chunked", state: "size", remaining: 0 }
      : { kind: "close" };
  }
  const lengths = new Set(
    headerValues(head, "content-length").flatMap((v) => v.split(",")).map((v) => v.trim()),
  );
  if (lengths.size > 1) throw new Error("conflicting Content-Length values");
  const [length] = lengths;
  if (length === undefined) return { kind: "close" };
  if (!/^\d{1,15}$/.test(length)) throw new Error(`invalid Content-Length "${length}"`);
  return { kind: "length", remaining: Number(length) };
}
