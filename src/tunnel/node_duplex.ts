/** A yamux stream as a node:stream Duplex, so that node:http can speak HTTP/1.1 over it. */
import { Duplex } from "node:stream";
import type { YamuxStream } from "./yamux/mod.ts";

/** Wraps the stream; destroying the Duplex resets the yamux stream. */
export function nodeDuplexOf(stream: YamuxStream): Duplex {
  const duplex = Duplex.fromWeb(
    { readable: stream.readable, writable: stream.writable } as unknown as Parameters<
      typeof Duplex.fromWeb
    >[0],
  );
  // node:http expects these of a socket.
  const socket = duplex as Duplex & {
    setTimeout?: unknown;
    setNoDelay?: unknown;
    setKeepAlive?: unknown;
  };
  socket.setTimeout = () => duplex;
  socket.setNoDelay = () => duplex;
  socket.setKeepAlive = () => duplex;
  return duplex;
}
