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
import { MAX_WINDOW, type StreamHost, YamuxStream } from "./stream.ts";
import { setImmediate } from "node:timers";
import { ByteBuffer } from "./_byte_buffer.ts";
import { ignore, type Outgoing, takeBatch } from "./_outbox.ts";

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
  /**
   * How many streams the peer may open over the session's life; one more ends the session.
   * Default: no limit. A peer that needs few (an agent opens its trust stream) is held to them,
   * so that opening streams only to have them refused cannot keep the session busy.
   */
  maxInboundStreams?: number;
  /** Called once when the peer says it goes away (GoAway), with its code. */
  onGoAway?: (code: number) => void;
}

const WINDOW_BUDGET = 16 * 1024 * 1024;
// Writers wait for the connection once this much is queued; below it a write returns at once,
// so that what a request produces in one turn (SYN, head, body, FIN) leaves in one write.
const OUTBOX_HIGH_WATER = 256 * 1024;
// A stream the peer opened is acknowledged with our first frame on it (spec.md allows the ACK
// on any frame): a separate ACK cost each tunnelled request a WebSocket message and a TLS
// record. One still unanswered after this long gets a bare ACK (hashicorp/yamux peers limit how
// many of their streams may wait for one, and close a session whose stream waits 75 s).
const ACK_WITHIN_MS = 100;
// Pings answered but not yet written: beyond this many the session reads on only as the answers
// leave. A peer that pings without reading made the session queue answers without bound.
const MAX_UNSENT_PONGS = 64;

/** A multiplexed connection. */
export class YamuxSession implements StreamHost {
  readonly closed: Promise<Error | undefined>;
  #streams = new Map<number, YamuxStream>();
  #nextId: number;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #outbox: Outgoing[] = [];
  #outboxBytes = 0;
  #flushing: Promise<void> | undefined;
  #unacknowledged = new Set<YamuxStream>();
  #ackTimer: ReturnType<typeof setTimeout> | undefined;
  #pings = new Map<number, (rtt: number) => void>();
  #nextPing = 1;
  #unsentPongs = 0;
  #inbound = 0;
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

  /** Streams this side opened that are still open. */
  get ownStreamCount(): number {
    const ours = this.options.client ? 1 : 0;
    let count = 0;
    for (const id of this.#streams.keys()) if (id % 2 === ours) count++;
    return count;
  }

  /** True once the session ended (the peer may have said it goes away and still be open). */
  get hasEnded(): boolean {
    return this.#ended !== undefined;
  }

  /** True once the session ended or the peer said it goes away. */
  get isClosed(): boolean {
    return this.#ended !== undefined || this.#remoteGoAway;
  }

  /**
   * Opens a stream; the peer learns of it with the next write of the session (SYN), together
   * with whatever the caller writes on it in the same turn.
   */
  // deno-lint-ignore require-await
  async open(): Promise<YamuxStream> {
    if (this.#ended) throw this.#ended;
    if (this.#remoteGoAway) throw new Error("yamux: the peer is going away");
    const id = this.#nextId;
    this.#nextId += 2;
    const stream = new YamuxStream(id, this, { outbound: true });
    this.#streams.set(id, stream);
    // A failed send ends the session, which fails the stream: nobody needs to wait here.
    stream.announce().catch(() => {});
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

  /**
   * Tells the peer (GoAway) to open no more streams here, keeping the session and its open
   * streams: a graceful handover, where the peer moves to another session and this one drains.
   */
  async goAway(): Promise<void> {
    if (this.#ended) return;
    await this.send(FrameType.GoAway, 0, 0, GoAwayCode.Normal);
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

  /**
   * Queues an encoded frame (StreamHost); resolves at once while little is queued, else once
   * the frame is handed to the connection.
   */
  sendFrame(frame: Uint8Array): Promise<void> {
    if (this.#ended) return Promise.reject(this.#ended);
    // Frames queued in the same event-loop turn (a request's SYN, head and FIN; an answer's
    // head, body and FIN; window updates of several streams) go out as one write after it:
    // fewer WebSocket messages, TLS records and syscalls.
    this.#flushing ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() =>
      this.#flush()
    );
    this.#outboxBytes += frame.length;
    if (this.#outboxBytes <= OUTBOX_HIGH_WATER) {
      this.#outbox.push({ frame, resolve: ignore, reject: ignore });
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => this.#outbox.push({ frame, resolve, reject }));
  }

  async #flush(): Promise<void> {
    while (this.#outbox.length > 0) {
      const batch = takeBatch(this.#outbox);
      this.#outboxBytes -= batch.bytes.length;
      try {
        await this.#writer.write(batch.bytes);
        for (const item of batch.items) item.resolve();
      } catch (error) {
        const ended = error instanceof Error ? error : new Error(String(error));
        for (const item of [...batch.items, ...this.#outbox.splice(0)]) item.reject(ended);
        this.#outboxBytes = 0;
        this.#end(ended);
      }
    }
    this.#flushing = undefined;
  }

  /** Forgets a finished stream (StreamHost). */
  release(streamId: number): void {
    const stream = this.#streams.get(streamId);
    if (stream) this.#unacknowledged.delete(stream);
    this.#streams.delete(streamId);
  }

  /** Acknowledges the peer's streams that have not answered with a frame of their own yet. */
  #acknowledgeLater(stream: YamuxStream): void {
    this.#unacknowledged.add(stream);
    if (this.#ackTimer !== undefined) return;
    this.#ackTimer = setTimeout(() => {
      this.#ackTimer = undefined;
      for (const waiting of this.#unacknowledged) {
        if (!waiting.opened) waiting.announce().catch(() => {});
      }
      this.#unacknowledged.clear();
    }, ACK_WITHIN_MS);
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
          // No stream's window is ever larger: waiting for the rest of such a frame would hold
          // whatever the peer sends (up to 4 GiB) before its overrun was seen.
          if (payloadLength > MAX_WINDOW) {
            await this.#protocolError(
              `yamux: protocol error: a data frame of ${payloadLength} bytes on stream ${header.streamId} is larger than any window`,
            );
          }
          if (buffer.length < HEADER_SIZE + payloadLength) break;
          buffer.skip(HEADER_SIZE);
          const payload = payloadLength > 0 ? buffer.take(payloadLength) : new Uint8Array();
          // Synchronous but for a protocol error or a ping flood: a frame costs no promise.
          const waiting = this.#dispatch(
            header.type,
            header.flags,
            header.streamId,
            header.length,
            payload,
          );
          if (waiting) await waiting;
        }
        const { value, done } = await reader.read();
        if (done) return;
        buffer.push(value);
      }
    } finally {
      reader.releaseLock();
    }
  }

  #dispatch(
    type: FrameType,
    flags: number,
    id: number,
    length: number,
    payload: Uint8Array,
  ): Promise<void> | undefined {
    if (type === FrameType.Ping) {
      if (flags & Flag.SYN) return this.#answerPing(length);
      this.#pings.get(length)?.(0);
      this.#pings.delete(length);
      return;
    }
    if (type === FrameType.GoAway) {
      if (!this.#remoteGoAway) queueMicrotask(() => this.options.onGoAway?.(length));
      this.#remoteGoAway = true;
      return;
    }
    let stream = this.#streams.get(id);
    if (flags & Flag.SYN) {
      if (stream || id % 2 === (this.options.client ? 1 : 0) || id === 0) {
        // A SYN for an id that is ours or in use breaks the protocol.
        return this.#protocolError(`yamux: protocol error: unexpected SYN for stream ${id}`);
      }
      if (++this.#inbound > (this.options.maxInboundStreams ?? Infinity)) {
        return this.#protocolError(`yamux: the peer opened more than ${this.#inbound - 1} streams`);
      }
      stream = new YamuxStream(id, this, { outbound: false });
      this.#streams.set(id, stream);
      this.#acknowledgeLater(stream);
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
    return undefined;
  }

  /** Answers a ping; while many answers wait to be written, reading waits for them. */
  #answerPing(opaque: number): Promise<void> | undefined {
    this.#unsentPongs++;
    const sent = this.send(FrameType.Ping, Flag.ACK, 0, opaque).finally(() => this.#unsentPongs--);
    if (this.#unsentPongs > MAX_UNSENT_PONGS) return sent;
    sent.catch(() => {});
    return undefined;
  }

  /** Tells the peer (GoAway) before the session ends with `message`. */
  async #protocolError(message: string): Promise<never> {
    await this.send(FrameType.GoAway, 0, 0, GoAwayCode.ProtocolError).catch(() => {});
    await this.#flushing;
    throw new Error(message);
  }

  #end(error: Error | undefined): void {
    if (this.#ended) return;
    this.#ended = error ?? new Error("yamux: the session ended");
    clearInterval(this.#keepAlive);
    clearTimeout(this.#ackTimer);
    this.#unacknowledged.clear();
    for (const stream of this.#streams.values()) stream.fail(this.#ended);
    this.#streams.clear();
    for (const [id] of this.#pings) this.#pings.delete(id);
    this.conn.readable.cancel().catch(() => {});
    this.#writer.abort(this.#ended).catch(() => {});
    this.#finish(error);
  }
}
