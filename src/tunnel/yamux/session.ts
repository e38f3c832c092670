/**
 * A yamux session (hashicorp/yamux spec) over any byte duplex: a WebSocket, a TCP connection.
 * Frames split across reads are reassembled; each stream has its own window, so a reader that
 * stops reading stalls only its stream; pings detect half-open connections.
 */
import {
  decodeHeader,
  encodeFrame,
  Flag,
  FrameType,
  GoAwayCode,
  HEADER_SIZE,
  INITIAL_WINDOW,
} from "./frame.ts";
import { type StreamHost, YamuxStream } from "./stream.ts";

/** A byte stream in both directions. */
export interface Duplex {
  readable: ReadableStream<Uint8Array>;
  writable: WritableStream<Uint8Array>;
}

/** Options of a session. */
export interface YamuxOptions {
  /** The dialing side uses odd stream ids, the accepting side even ones. */
  client: boolean;
  /** Called for each stream the peer opens. */
  onStream?: (stream: YamuxStream) => void;
  /** Ping the peer this often (0: never); default 30 s. */
  keepAliveIntervalMs?: number;
  /** A ping unanswered for this long ends the session; default 10 s. */
  keepAliveTimeoutMs?: number;
  /**
   * How far the receive windows of all streams together may grow beyond their first 256 KiB
   * each; default 16 MiB. Clients that read fast and then stop can make a session hold no more.
   */
  windowBudget?: number;
}

const WINDOW_BUDGET = 16 * 1024 * 1024;

/** A multiplexed connection. */
export class YamuxSession implements StreamHost {
  readonly closed: Promise<Error | undefined>;
  #streams = new Map<number, YamuxStream>();
  #nextId: number;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #outbox: Outgoing[] = [];
  #flushing: Promise<void> | undefined;
  #pings = new Map<number, (rtt: number) => void>();
  #nextPing = 1;
  #ended: Error | undefined;
  #remoteGoAway = false;
  #finish!: (error: Error | undefined) => void;
  #keepAlive: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly conn: Duplex, private readonly options: YamuxOptions) {
    this.#nextId = options.client ? 1 : 2;
    this.#writer = conn.writable.getWriter();
    this.closed = new Promise((resolve) => this.#finish = resolve);
    this.#readLoop().then(
      () => this.#end(new Error("yamux: the connection closed")),
      (error) => this.#end(error instanceof Error ? error : new Error(String(error))),
    );
    const interval = options.keepAliveIntervalMs ?? 30_000;
    if (interval > 0) {
      const timeout = options.keepAliveTimeoutMs ?? 10_000;
      this.#keepAlive = setInterval(() => {
        const timer = setTimeout(
          () => this.#end(new Error("yamux: keepalive ping went unanswered")),
          timeout,
        );
        this.ping().then(() => clearTimeout(timer), () => clearTimeout(timer));
      }, interval);
    }
  }

  /** Streams currently open. */
  get streamCount(): number {
    return this.#streams.size;
  }

  /** True once the session ended or the peer said it goes away. */
  get isClosed(): boolean {
    return this.#ended !== undefined || this.#remoteGoAway;
  }

  /** Opens a stream; the peer learns of it at once (SYN). */
  async open(): Promise<YamuxStream> {
    if (this.#ended) throw this.#ended;
    if (this.#remoteGoAway) throw new Error("yamux: the peer is going away");
    const id = this.#nextId;
    this.#nextId += 2;
    const stream = new YamuxStream(id, this, { outbound: true });
    this.#streams.set(id, stream);
    await stream.announce();
    return stream;
  }

  /** Round trip of a ping, in milliseconds. */
  ping(): Promise<number> {
    const id = this.#nextPing++ >>> 0;
    const started = performance.now();
    return new Promise((resolve, reject) => {
      if (this.#ended) return reject(this.#ended);
      this.#pings.set(id, () => resolve(performance.now() - started));
      this.send(FrameType.Ping, Flag.SYN, 0, id).catch(reject);
    });
  }

  /** Says goodbye (GoAway) and closes the connection; open streams fail. */
  async close(): Promise<void> {
    if (this.#ended) return;
    await this.send(FrameType.GoAway, 0, 0, GoAwayCode.Normal).catch(() => {});
    await this.#flushing;
    this.#end(new Error("yamux: the session was closed"));
    await this.#writer.close().catch(() => {});
  }

  /** Serializes frames onto the connection (StreamHost). */
  send(
    type: FrameType,
    flags: number,
    streamId: number,
    lengthOrPayload: number | Uint8Array,
  ): Promise<void> {
    return this.sendFrame(
      typeof lengthOrPayload === "number"
        ? encodeFrame({ type, flags, streamId, length: lengthOrPayload })
        : encodeFrame({ type, flags, streamId, length: lengthOrPayload.length }, lengthOrPayload),
    );
  }

  /** Queues an encoded frame (StreamHost). */
  sendFrame(frame: Uint8Array): Promise<void> {
    if (this.#ended) return Promise.reject(this.#ended);
    return new Promise((resolve, reject) => {
      this.#outbox.push({ frame, resolve, reject });
      // Frames queued in the same turn (a response head and its body, window updates of
      // several streams) go out as one write: fewer WebSocket messages, TLS records, syscalls.
      this.#flushing ??= Promise.resolve().then(() => this.#flush());
    });
  }

  async #flush(): Promise<void> {
    while (this.#outbox.length > 0) {
      const batch = takeBatch(this.#outbox);
      try {
        await this.#writer.write(batch.bytes);
        for (const item of batch.items) item.resolve();
      } catch (error) {
        const ended = error instanceof Error ? error : new Error(String(error));
        for (const item of [...batch.items, ...this.#outbox.splice(0)]) item.reject(ended);
        this.#end(ended);
      }
    }
    this.#flushing = undefined;
  }

  /** Forgets a finished stream (StreamHost). */
  release(streamId: number): void {
    this.#streams.delete(streamId);
  }

  /** Whether the streams' windows, beyond their first one each, stay within the budget (StreamHost). */
  mayGrowWindow(by: number): boolean {
    let grown = by;
    for (const stream of this.#streams.values()) grown += stream.receiveWindow - INITIAL_WINDOW;
    return grown <= (this.options.windowBudget ?? WINDOW_BUDGET);
  }

  async #readLoop(): Promise<void> {
    const reader = this.conn.readable.getReader();
    const buffer = new ByteBuffer();
    try {
      while (true) {
        while (buffer.length >= HEADER_SIZE) {
          const header = decodeHeader(buffer.peek(HEADER_SIZE));
          const payloadLength = header.type === FrameType.Data ? header.length : 0;
          if (buffer.length < HEADER_SIZE + payloadLength) break;
          buffer.skip(HEADER_SIZE);
          const payload = payloadLength > 0 ? buffer.take(payloadLength) : new Uint8Array();
          await this.#dispatch(header.type, header.flags, header.streamId, header.length, payload);
        }
        const { value, done } = await reader.read();
        if (done) return;
        buffer.push(value);
      }
    } finally {
      reader.releaseLock();
    }
  }

  async #dispatch(
    type: FrameType,
    flags: number,
    id: number,
    length: number,
    payload: Uint8Array,
  ): Promise<void> {
    if (type === FrameType.Ping) {
      if (flags & Flag.SYN) {
        await this.send(FrameType.Ping, Flag.ACK, 0, length).catch(() => {});
      } else {
        this.#pings.get(length)?.(0);
        this.#pings.delete(length);
      }
      return;
    }
    if (type === FrameType.GoAway) {
      this.#remoteGoAway = true;
      return;
    }
    let stream = this.#streams.get(id);
    if (flags & Flag.SYN) {
      if (stream || id % 2 === (this.options.client ? 1 : 0) || id === 0) {
        // A SYN for an id that is ours or in use breaks the protocol.
        await this.send(FrameType.GoAway, 0, 0, GoAwayCode.ProtocolError).catch(() => {});
        throw new Error(`yamux: protocol error: unexpected SYN for stream ${id}`);
      }
      stream = new YamuxStream(id, this, { outbound: false });
      this.#streams.set(id, stream);
      await stream.announce();
      this.options.onStream?.(stream);
    }
    if (!stream) return; // late frames of a stream already gone
    if (type === FrameType.Data && !stream.receive(payload)) {
      stream.fail(new Error(`yamux: stream ${id} overran its window`));
      stream.reset();
      return;
    }
    if (type === FrameType.WindowUpdate && length > 0) stream.grant(length);
    if (flags & Flag.RST) {
      stream.fail(new Error(`yamux: stream ${id} was reset by the peer`));
      this.release(id);
    } else if (flags & Flag.FIN) {
      stream.remoteClose();
    }
  }

  #end(error: Error | undefined): void {
    if (this.#ended) return;
    this.#ended = error ?? new Error("yamux: the session ended");
    clearInterval(this.#keepAlive);
    for (const stream of this.#streams.values()) stream.fail(this.#ended);
    this.#streams.clear();
    for (const [id] of this.#pings) this.#pings.delete(id);
    this.conn.readable.cancel().catch(() => {});
    this.#writer.abort(this.#ended).catch(() => {});
    this.#finish(error);
  }
}

/** A frame waiting for the connection, and who waits for it. */
interface Outgoing {
  frame: Uint8Array;
  resolve: () => void;
  reject: (error: Error) => void;
}

// One write carries up to this much; a larger frame goes alone rather than being copied.
const BATCH_BYTES = 64 * 1024;

/** Takes the next frames that fit one write, at least one, and joins them. */
function takeBatch(outbox: Outgoing[]): { bytes: Uint8Array; items: Outgoing[] } {
  let count = 0;
  let size = 0;
  while (
    count < outbox.length && (count === 0 || size + outbox[count]!.frame.length <= BATCH_BYTES)
  ) {
    size += outbox[count]!.frame.length;
    count++;
  }
  const items = outbox.splice(0, count);
  if (items.length === 1) return { bytes: items[0]!.frame, items };
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const item of items) {
    bytes.set(item.frame, offset);
    offset += item.frame.length;
  }
  return { bytes, items };
}

/** Bytes received but not yet parsed, without copying every chunk into one buffer. */
class ByteBuffer {
  #chunks: Uint8Array[] = [];
  length = 0;

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.length += chunk.length;
  }

  peek(size: number): Uint8Array {
    const first = this.#chunks[0]!;
    if (first.length >= size) return first.subarray(0, size);
    return this.#copy(size, false);
  }

  take(size: number): Uint8Array {
    const first = this.#chunks[0]!;
    if (first.length >= size) {
      const part = first.subarray(0, size);
      this.skip(size);
      // The payload outlives this buffer: a small slice is copied out, so that it does not keep
      // a large read chunk alive; a payload that is most of its chunk (a data frame in its own
      // WebSocket message) is used in place, which spares copying bulk data once more.
      return part.length * 2 >= first.length ? part : part.slice();
    }
    return this.#copy(size, true);
  }

  skip(size: number): void {
    this.length -= size;
    while (size > 0) {
      const first = this.#chunks[0]!;
      if (first.length <= size) {
        this.#chunks.shift();
        size -= first.length;
      } else {
        this.#chunks[0] = first.subarray(size);
        size = 0;
      }
    }
  }

  #copy(size: number, consume: boolean): Uint8Array {
    const out = new Uint8Array(size);
    let offset = 0;
    for (const chunk of this.#chunks) {
      const part = chunk.subarray(0, Math.min(chunk.length, size - offset));
      out.set(part, offset);
      offset += part.length;
      if (offset === size) break;
    }
    if (consume) this.skip(size);
    return out;
  }
}
