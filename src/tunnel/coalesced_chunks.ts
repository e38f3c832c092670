/**
 * A node:stream Readable as batches of the chunks that arrived while the previous batch was
 * being sent. node's HTTP client hands a response body over one HTTP chunk at a time (about
 * 4 KiB from kube-apiserver), even when one socket read brought hundreds of them: relaying each
 * on its own cost a yamux frame, a WebSocket message and a TLS record apiece, and capped a large
 * LIST through the tunnel at about a quarter of direct throughput. The chunks are not joined
 * here: YamuxStream.writeChunks copies them once, into their frames. Nothing waits for more
 * data, so a watch event still leaves at once.
 */
import { finished, type Readable } from "node:stream";

/**
 * Batches of `source`'s chunks, each everything that arrived since the last one was taken. The
 * source is paused while about `maxBytes` wait, so a slow consumer slows the source.
 */
export async function* coalescedChunks(
  source: Readable,
  maxBytes = 256 * 1024,
): AsyncGenerator<Uint8Array[]> {
  let batch: Uint8Array[] = [];
  let batchBytes = 0;
  let ended = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const onData = (chunk: Uint8Array) => {
    batch.push(chunk);
    batchBytes += chunk.length;
    if (batchBytes >= maxBytes) source.pause();
    wake?.();
  };
  // finished() also reports a source that closed before its end (a cut connection).
  const stopWatching = finished(source, (error) => {
    ended = true;
    failure = error ?? undefined;
    wake?.();
  });
  source.on("data", onData);
  try {
    while (true) {
      if (batch.length > 0) {
        const taken = batch;
        batch = [];
        batchBytes = 0;
        source.resume();
        yield taken;
        continue;
      }
      if (failure) throw failure;
      if (ended) return;
      await new Promise<void>((resolve) => wake = resolve);
      wake = undefined;
    }
  } finally {
    source.off("data", onData);
    stopWatching();
  }
}
