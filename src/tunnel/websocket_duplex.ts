/** A WebSocket (npm `ws`) as a byte duplex for yamux: binary messages in, binary messages out. */
// @ts-types="npm:@types/ws@8.18.1"
import type { WebSocket } from "ws";
import type { Duplex } from "./yamux/mod.ts";

// Above this much unsent data, writes wait for the socket, which gives the session backpressure.
const HIGH_WATER = 1024 * 1024;

/** Told of each message's payload size, received or sent (for byte counters). */
export type CountBytes = (direction: "received" | "sent", bytes: number) => void;

/** Wraps an open WebSocket. The readable pauses the socket while nobody reads. */
export function websocketDuplex(ws: WebSocket, countBytes?: CountBytes): Duplex {
  const readable = new ReadableStream<Uint8Array>({
    start(controller) {
      ws.on("message", (data: Buffer | ArrayBuffer | Buffer[]) => {
        const bytes = Array.isArray(data) ? Buffer.concat(data) : data;
        countBytes?.("received", bytes.byteLength);
        controller.enqueue(
          bytes instanceof ArrayBuffer
            ? new Uint8Array(bytes)
            : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
        );
        if ((controller.desiredSize ?? 1) <= 0) ws.pause();
      });
      ws.on("close", () => {
        try {
          controller.close();
        } catch { /* already closed */ }
      });
      ws.on("error", (error: Error) => {
        try {
          controller.error(error);
        } catch { /* already closed */ }
      });
    },
    pull() {
      ws.resume();
    },
    cancel() {
      ws.terminate();
    },
  }, { highWaterMark: 16 });
  const writable = new WritableStream<Uint8Array>({
    write(chunk) {
      countBytes?.("sent", chunk.byteLength);
      return new Promise<void>((resolve, reject) => {
        // Always ask to be told when this chunk is out: deciding before the send missed the
        // chunk that crossed the mark, and that write then never finished (a stalled tunnel).
        ws.send(chunk, { binary: true }, (error?: Error) => (error ? reject(error) : resolve()));
        if (ws.bufferedAmount <= HIGH_WATER) resolve();
      });
    },
    close() {
      ws.close(1000);
    },
    abort() {
      ws.terminate();
    },
  });
  return { readable, writable };
}
