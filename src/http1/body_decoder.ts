/**
 * Reads one message body by its framing (RFC 9112 §6-7): a Content-Length, chunked transfer
 * coding (extensions ignored, trailers skipped), or until the connection closes. Pure; body
 * chunks are views of the pushed bytes, not copies.
 */
import { type HeaderFields, headerTokens, headerValues } from "./_message_head.ts";

const LF = 10, CR = 13, SPACE = 32, TAB = 9, SEMICOLON = 59;
const MAX_CHUNK_LINE_BYTES = 4096;
const latin1 = new TextDecoder("latin1");

/** How a body is delimited. */
export type Framing =
  | { kind: "length"; length: number }
  | { kind: "chunked" }
  | { kind: "close" };

/** What reading produced: body chunks, whether the body is complete, and the unread bytes. */
export interface DecodeStep {
  chunks: Uint8Array[];
  done: boolean;
  /** Bytes after the body (the next message), or an unfinished chunk line kept for later. */
  rest: Uint8Array;
}

/** The framing the headers declare; `fallback` is what a message without either header gets. */
export function framingOf(raw: HeaderFields, fallback: "none" | "close"): Framing {
  const codings = headerTokens(raw, "transfer-encoding");
  if (codings.length > 0) {
    if (headerValues(raw, "content-length").length > 0) {
      // Both at once is how requests are smuggled past proxies (RFC 9112 §6.3).
      throw new Error("both Transfer-Encoding and Content-Length");
    }
    if (fallback === "close") {
      return codings.at(-1) === "chunked" ? { kind: "chunked" } : { kind: "close" };
    }
    // A request's length is known only when chunked comes last (RFC 9112 §6.3: else 400); a
    // server decodes only the codings it knows, and this one knows chunked alone (§6.1: 501).
    if (codings.at(-1) !== "chunked") {
      throw new Error(
        `a request body must end with the chunked coding, not "${codings.join(", ")}"`,
      );
    }
    if (codings.length > 1) {
      throw new Error(`unsupported Transfer-Encoding "${codings.join(", ")}"`);
    }
    return { kind: "chunked" };
  }
  const declared = headerValues(raw, "content-length");
  // One plain value is the common case; lists ("5, 5") must agree.
  const lengths = declared.length === 1 && !declared[0]!.includes(",")
    ? new Set(declared)
    : new Set(declared.flatMap((v) => v.split(",")).map((v) => v.trim()));
  if (lengths.size > 1) throw new Error("conflicting Content-Length values");
  const [length] = lengths;
  if (length === undefined) {
    return fallback === "none" ? { kind: "length", length: 0 } : { kind: "close" };
  }
  if (!/^\d{1,15}$/.test(length)) throw new Error(`invalid Content-Length "${length}"`);
  return { kind: "length", length: Number(length) };
}

/** Decodes one body, fed in pieces. */
export class BodyDecoder {
  readonly #framing: Framing;
  #remaining: number;
  #state: "size" | "data" | "data-end" | "trailers" = "size";
  #done: boolean;

  constructor(framing: Framing) {
    this.#framing = framing;
    this.#remaining = framing.kind === "length" ? framing.length : 0;
    this.#done = framing.kind === "length" && framing.length === 0;
  }

  get done(): boolean {
    return this.#done;
  }

  /** True when the body runs until the connection closes. */
  get endsWithConnection(): boolean {
    return this.#framing.kind === "close";
  }

  /** Reads as much of the body as `data` holds; throws on a malformed chunked body. */
  push(data: Uint8Array): DecodeStep {
    const chunks: Uint8Array[] = [];
    if (this.#framing.kind === "close") {
      if (data.length > 0) chunks.push(data);
      return { chunks, done: false, rest: new Uint8Array(0) };
    }
    let rest = data;
    while (rest.length > 0 && !this.#done) {
      if (this.#framing.kind === "length" || this.#state === "data") {
        const take = Math.min(this.#remaining, rest.length);
        chunks.push(rest.subarray(0, take));
        this.#remaining -= take;
        rest = rest.subarray(take);
        if (this.#remaining > 0) break;
        if (this.#framing.kind === "length") this.#done = true;
        else this.#state = "data-end";
        continue;
      }
      const lineEnd = rest.indexOf(LF);
      if (lineEnd < 0) {
        if (rest.length > MAX_CHUNK_LINE_BYTES) throw new Error("a chunk line is too long");
        return { chunks, done: false, rest };
      }
      this.#chunkLine(rest, lineEnd);
      rest = rest.subarray(lineEnd + 1);
    }
    return { chunks, done: this.#done, rest };
  }

  /** One line of the chunked coding, read from the bytes (a 17 MB LIST has ~4,000 of them). */
  #chunkLine(bytes: Uint8Array, lineEnd: number): void {
    const end = lineEnd > 0 && bytes[lineEnd - 1] === CR ? lineEnd - 1 : lineEnd;
    if (this.#state === "data-end") {
      if (end !== 0) throw new Error("a chunk is longer than its size");
      this.#state = "size";
    } else if (this.#state === "size") {
      this.#remaining = chunkSize(bytes, end);
      this.#state = this.#remaining === 0 ? "trailers" : "data";
    } else if (end === 0) {
      // Trailer fields end with an empty line; they are dropped.
      this.#done = true;
    }
  }
}

/** The hex size at the start of a chunk line; extensions (";name=value") carry nothing we need. */
function chunkSize(bytes: Uint8Array, end: number): number {
  let size = 0;
  let digits = 0;
  let i = 0;
  for (; i < end; i++) {
    const value = hexValue(bytes[i]!);
    if (value < 0) break;
    size = size * 16 + value;
    digits++;
  }
  while (i < end && (bytes[i] === SPACE || bytes[i] === TAB)) i++;
  if (digits === 0 || digits > 12 || (i < end && bytes[i] !== SEMICOLON)) {
    const line = latin1.decode(bytes.subarray(0, Math.min(end, 40)));
    throw new Error(`invalid chunk size "${line.split(";", 1)[0]!.trim()}"`);
  }
  return size;
}

function hexValue(byte: number): number {
  if (byte >= 48 && byte <= 57) return byte - 48; // 0-9
  if (byte >= 97 && byte <= 102) return byte - 87; // a-f
  if (byte >= 65 && byte <= 70) return byte - 55; // A-F
  return -1;
}
