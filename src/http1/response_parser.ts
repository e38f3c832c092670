/**
 * Reads one HTTP/1.1 response from the bytes of a connection (pure): the head, then the body as
 * its framing says (RFC 9112 §6: no body for HEAD, 1xx, 204 and 304; chunked; Content-Length;
 * else until the connection closes). Body chunks are views of the pushed bytes, not copies.
 * node:http's client costs more CPU than the TLS under it (bench/stacks); this is the part of
 * its work an upstream client needs.
 */
import { concatBytes } from "../bytes.ts";
import {
  type HeaderFields,
  indexOfHeadEnd,
  keepsAlive,
  latin1Text,
  parseHeaderLines,
} from "./_message_head.ts";
import { BodyDecoder, framingOf } from "./body_decoder.ts";

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

const MAX_HEAD_BYTES = 1024 * 1024;

/** Parses the response to one request; throws on a malformed one. */
export class ResponseParser {
  readonly #method: string;
  #pending: Uint8Array = new Uint8Array(0);
  #body: BodyDecoder | undefined;
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
      if (!this.#body) {
        data = this.#readHead(data, events);
        continue;
      }
      const step = this.#body.push(data);
      for (const chunk of step.chunks) events.push({ type: "body", chunk });
      if (step.done) {
        this.#finish(events, this.#keepAlive);
        data = step.rest;
      } else {
        this.#pending = step.rest;
        data = new Uint8Array(0);
      }
    }
    if (this.#finished && data.length > 0) {
      throw new Error("the server sent data after the end of the response");
    }
    return events;
  }

  /** The connection closed: ends a body that runs until close, or fails an unfinished one. */
  close(): ResponseEvent[] {
    if (this.#finished) return [];
    const events: ResponseEvent[] = [];
    if (this.#body?.endsWithConnection) {
      this.#finish(events, false);
      return events;
    }
    throw new Error(
      this.#body
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
    const { version, fields, ...head } = parseHead(latin1Text(data.subarray(0, end)));
    const rest = data.subarray(end + 4);
    // Informational answers (100 Continue, 103 Early Hints) precede the real one.
    if (head.status >= 100 && head.status < 200) {
      if (head.status === 101) throw new Error("unexpected 101 Switching Protocols");
      return rest;
    }
    events.push({ type: "head", head });
    this.#keepAlive = keepsAlive(version, fields);
    const bodiless = this.#method === "HEAD" || head.status === 204 || head.status === 304;
    this.#body = new BodyDecoder(
      bodiless ? { kind: "length", length: 0 } : framingOf(fields, "close"),
    );
    if (this.#body.done) this.#finish(events, this.#keepAlive);
    return rest;
  }

  #finish(events: ResponseEvent[], reusable: boolean): void {
    this.#finished = true;
    events.push({ type: "end", reusable });
  }
}

/** Parses "HTTP/1.1 200 OK" and the header lines. */
export function parseHead(text: string): ResponseHead & { version: string; fields: HeaderFields } {
  const lines = text.split("\r\n");
  const match = /^HTTP\/(1\.[01]) (\d{3})(?: (.*))?$/.exec(lines[0] ?? "");
  if (!match) throw new Error(`invalid status line "${(lines[0] ?? "").slice(0, 100)}"`);
  const fields = parseHeaderLines(lines.slice(1));
  return {
    version: match[1]!,
    status: Number(match[2]),
    statusText: match[3] ?? "",
    rawHeaders: fields.raw,
    fields,
  };
}
