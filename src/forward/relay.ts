/** Relaying bodies and upgraded connections between two sides, with backpressure both ways. */
import { pauseSocket, type ProxyResponse, resumeSocket } from "../http1/mod.ts";
import type { Duplex, Readable } from "node:stream";
import type { StreamBoundary } from "./stream_boundary.ts";

/**
 * Joins two upgraded connections byte for byte. Each side stops reading while the other is full
 * (pauseSocket, not pipe: a piped TLS socket went on reading from the kernel, so a stalled
 * port-forward client grew the process). When one side closes, the other is ended, not
 * destroyed: what it still has to write (an exec's last frames, its status and the WebSocket
 * close, come just before the API server closes) goes out first, then it is closed; without
 * that, kubectl saw `close 1006 (abnormal closure)`. An error ends only the side it happened on:
 * its partner is ended the same way, after flushing. Destroying both cut an exec's last frames
 * when kubectl wrote to a tunnel stream the agent had already reset.
 */
export function spliceSockets(a: Duplex, b: Duplex): void {
  relayBytes(a, b);
  relayBytes(b, a);
  for (const [side, other] of [[a, b], [b, a]] as const) {
    side.once("error", () => side.destroy());
    side.once("close", () => closeAfterFlush(other));
  }
}

/** Copies `from` into `to`, pausing `from` while `to` is full; ends `to` when `from` ends. */
function relayBytes(from: Duplex, to: Duplex): void {
  let waiting = false;
  const resume = () => {
    waiting = false;
    resumeSocket(from);
  };
  from.on("data", (chunk: Uint8Array) => {
    if (!to.write(chunk) && !waiting) {
      waiting = true;
      pauseSocket(from);
      to.once("drain", resume);
    }
  });
  from.once("end", () => to.end());
}

/** How long a side may take to flush what it holds once its partner is gone. */
const FLUSH_GRACE_MS = 10_000;

function closeAfterFlush(socket: Duplex): void {
  if (socket.destroyed) return;
  if (socket.writableFinished) return void socket.destroy();
  socket.once("finish", () => socket.destroy());
  socket.end();
  // A peer that stops reading must not keep the connection forever.
  const timer = setTimeout(() => socket.destroy(), FLUSH_GRACE_MS);
  socket.once("close", () => clearTimeout(timer));
}

/**
 * Copies a body to the client as it arrives, then ends the response; pauses the source while the
 * client is behind. Driven by the stream's events rather than `for await` (a promise per chunk).
 * A response with a Content-Length holds its latest chunk back and sends it with `end(chunk)`: a
 * small answer then leaves with its head in one write, and no write is ever empty (under
 * node:http, Deno 2.9's TLS socket never called back for the empty write `end()` made, and the
 * next request on that keep-alive connection waited forever). Chunked responses (watches, logs)
 * write each chunk at once.
 */
export function relayStream(
  source: Readable,
  res: ProxyResponse,
  hasContentLength: boolean,
  options: RelayStopOptions = {},
): Promise<void> {
  return new Promise((resolve) => {
    if (res.destroyed) {
      // The client left while the head was on its way.
      source.destroy();
      return resolve();
    }
    let held: Uint8Array | undefined;
    let stopping = false;
    let cutTimer: ReturnType<typeof setTimeout> | undefined;
    const resume = () => source.resume();
    const finish = () => {
      clearTimeout(cutTimer);
      source.destroy();
      res.end();
    };
    source.on("data", (chunk: Uint8Array) => {
      if (chunk.length === 0) return;
      const out = hasContentLength ? held : chunk;
      held = hasContentLength ? chunk : undefined;
      const complete = out && options.boundary?.push(out);
      if (out && stopping && complete !== undefined) {
        // The message in progress is whole now: send it, and end there.
        if (complete > 0) res.write(out.subarray(0, complete));
        return finish();
      }
      if (out && !res.write(out)) {
        source.pause();
        res.once("drain", resume);
      }
    });
    source.once("end", () => {
      clearTimeout(cutTimer);
      res.end(held);
      resolve();
    });
    source.once("error", () => {
      clearTimeout(cutTimer);
      res.destroy();
      resolve();
    });
    res.once("close", () => {
      clearTimeout(cutTimer);
      if (!res.writableFinished || stopping) source.destroy();
      options.stop?.removeEventListener("abort", stop);
      resolve();
    });
    function stop(): void {
      if (hasContentLength || !options.boundary || res.writableFinished) return;
      stopping = true;
      if (options.boundary.atBoundary()) return finish();
      // A message that never completes is cut after all.
      cutTimer = setTimeout(() => res.destroy(), options.cutAfterMs ?? 2_000);
    }
    if (options.stop?.aborted) stop();
    else options.stop?.addEventListener("abort", stop, { once: true });
  });
}

/** How a streamed answer ends when the proxy stops. */
export interface RelayStopOptions {
  /** Aborted when the server stops: the stream ends at its next message boundary. */
  stop?: AbortSignal;
  /** The stream's framing; without it a stop leaves the stream to the server's deadline. */
  boundary?: StreamBoundary;
  /** How long a stop waits for the message in progress to complete; default 2 s. */
  cutAfterMs?: number;
}
