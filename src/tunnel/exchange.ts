/**
 * One HTTP exchange on one yamux stream, without HTTP/1.1 on the stream: the hub writes a
 * request head (length-prefixed JSON), then the body, then FIN; the agent answers with a
 * response head, then the body, then FIN. After a 101 head both directions carry raw bytes.
 * Parsing and chunked encoding twice per request (node:http on both ends) cost more than the
 * rest of the tunnel; this costs one JSON parse per head.
 */
import { concatBytes } from "../bytes.ts";

/** Headers as they travel: repeated values stay separate (Impersonate-Group, Warning). */
export type TunnelHeaders = Record<string, string | string[]>;

/** What the hub asks the agent to send to its API server. */
export interface TunnelRequestHead {
  method: string;
  /** Path and query on the member. */
  path: string;
  headers: TunnelHeaders;
}

/** What the member answered. */
export interface TunnelResponseHead {
  status: number;
  statusText: string;
  headers: TunnelHeaders;
}

// Heads are small; a peer announcing more is broken or hostile.
const MAX_HEAD_BYTES = 1024 * 1024;

/** What heads and bodies are read from: a YamuxStream, or a web stream's reader. */
export interface ChunkReader {
  read(): Promise<ReadableStreamReadResult<Uint8Array>>;
}

/** A head as it goes on the stream: 4-byte big-endian length, then UTF-8 JSON. */
export function encodeHead(head: TunnelRequestHead | TunnelResponseHead): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(head));
  const out = new Uint8Array(4 + json.length);
  new DataView(out.buffer).setUint32(0, json.length);
  out.set(json, 4);
  return out;
}

/** A head read from the stream, and the bytes after it (the start of the body). */
export interface ReadHead<T> {
  head: T;
  rest: Uint8Array;
}

/** Reads one head; fails if the stream ends first or the head is malformed. */
export async function readHead<T extends TunnelRequestHead | TunnelResponseHead>(
  reader: ChunkReader,
  kind: "request" | "response",
): Promise<ReadHead<T>> {
  let buffered: Uint8Array = new Uint8Array(0);
  let needed = 4;
  let length: number | undefined;
  while (true) {
    if (buffered.length >= needed) {
      if (length === undefined) {
        length = new DataView(buffered.buffer, buffered.byteOffset, 4).getUint32(0);
        if (length > MAX_HEAD_BYTES) {
          throw new Error(`tunnel: a ${kind} head of ${length} bytes is over the limit`);
        }
        needed = 4 + length;
        continue;
      }
      const head = parseHead(buffered.subarray(4, needed), kind) as T;
      return { head, rest: buffered.subarray(needed) };
    }
    const { value, done } = await reader.read();
    if (done) throw new Error(`tunnel: the stream ended before the ${kind} head`);
    buffered = buffered.length === 0 ? value : concatBytes([buffered, value]);
  }
}

function parseHead(bytes: Uint8Array, kind: "request" | "response") {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new Error(`tunnel: the ${kind} head is not JSON`);
  }
  const head = value as Partial<TunnelRequestHead & TunnelResponseHead>;
  const headersOk = typeof head.headers === "object" && head.headers !== null &&
    !Array.isArray(head.headers);
  const ok = kind === "request"
    ? typeof head.method === "string" && typeof head.path === "string" && head.path.startsWith("/")
    // A status is three digits (RFC 9110 §15): it becomes a metric label and a status line.
    : Number.isInteger(head.status) && head.status! >= 100 && head.status! <= 999 &&
      typeof head.statusText === "string";
  if (!ok || !headersOk) throw new Error(`tunnel: the ${kind} head is malformed`);
  return head;
}

/** The bytes after a head: what readHead left over, then the rest of the stream. */
export async function* bodyChunks(
  reader: ChunkReader,
  rest: Uint8Array,
): AsyncGenerator<Uint8Array> {
  if (rest.length > 0) yield rest;
  while (true) {
    const { value, done } = await reader.read();
    if (done) return;
    yield value;
  }
}
