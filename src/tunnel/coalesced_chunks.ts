/**
 * A node:stream Readable as chunks that each carry everything buffered at that moment. node's
 * HTTP client hands a response body over one HTTP chunk at a time (about 4 KiB from
 * kube-apiserver), even when a single socket read brought hundreds of them: relaying each on
 * its own cost a yamux frame, a WebSocket message and a TLS record apiece, and capped a large
 * LIST through the tunnel at about a quarter of direct throughput. Nothing waits for more data,
 * so a watch event still leaves at once.
 */
import type { Readable } from "node:stream";

/** Chunks of `source`, each joined with what was already buffered behind it, up to `maxBytes`. */
export async function* coalescedChunks(
  source: Readable,
  maxBytes = 256 * 1024,
): AsyncGenerator<Uint8Array> {
  for await (const chunk of source as AsyncIterable<Uint8Array>) {
    const buffered = Math.min(source.readableLength, maxBytes - chunk.length);
    // read(n) for at most what is buffered returns at once, joined into one Buffer.
    const rest = buffered > 0 ? source.read(buffered) as Uint8Array | null : null;
    yield rest ? concat(chunk, rest) : chunk;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
