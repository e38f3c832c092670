/**
 * Stopping a socket's reads for backpressure. On Deno (2.9) a node:tls socket is a TLSWrap over a
 * TCP handle, and `pause()` (which ends in the TLSWrap's readStop) leaves the TCP handle reading:
 * the TLSWrap keeps taking bytes from the kernel and holds them decrypted until the socket
 * resumes: a paused client socket took a whole large answer into memory while its peer wrote on
 * unhindered; stopping the TCP handle as well holds the peer at the kernel's buffers, and every
 * byte arrives after the resume (docs/benchmarks.md). The same holds for the sockets a node:tls server accepts.
 */
import type { Duplex } from "node:stream";

/** The read switches of a native stream handle (Deno's TCPWrap, node's libuv handles). */
interface NativeReads {
  readStart(): number;
  readStop(): number;
}

const stopped = new WeakSet<Duplex>();

/** The transport handle under a TLS socket's TLSWrap, if the runtime has one there. */
function transportOf(socket: Duplex): NativeReads | undefined {
  const handle = (socket as { _handle?: { _parent?: unknown } | null })._handle;
  const parent = handle?._parent as Partial<NativeReads> | null | undefined;
  if (
    !parent || (parent as unknown) === handle || typeof parent.readStop !== "function" ||
    typeof parent.readStart !== "function"
  ) return undefined;
  return parent as NativeReads;
}

/** Stops reading: the stream's flow and, under TLS, the transport's reads from the kernel. */
export function pauseSocket(socket: Duplex): void {
  socket.pause();
  if (stopped.has(socket)) return;
  const transport = transportOf(socket);
  if (transport && transport.readStop() === 0) stopped.add(socket);
}

/** Reads again after pauseSocket. */
export function resumeSocket(socket: Duplex): void {
  if (stopped.delete(socket) && !socket.destroyed) transportOf(socket)?.readStart();
  socket.resume();
}
