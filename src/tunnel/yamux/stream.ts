/** One yamux stream: a readable and a writable with per-stream flow control. */
import { Flag, FrameType, HEADER_SIZE, INITIAL_WINDOW, writeHeader } from "./frame.ts";

/** What a stream needs from its session. */
export interface StreamHost {
  /** Queues a frame; resolves once it is handed to the connection. */
  send(
    type: FrameType,
    flags: number,
    streamId: number,
    lengthOrPayload: number | Uint8Array,
  ): Promise<void>;
  /** Queues a frame already encoded; resolves once it is handed to the connection. */
  sendFrame(frame: Uint8Array): Promise<void>;
  /** Forgets the stream once both directions are done. */
  release(streamId: number): void;
  /** Whether a stream's receive window may grow by `by` bytes (a budget shared by the session). */
  mayGrowWindow(by: number): boolean;
}

// Large writes are cut into frames of at most this size, so that other streams get turns.
const MAX_FRAME = 64 * 1024;
// A reader that takes half its window this fast is a bulk transfer: its window doubles, up to
// MAX_WINDOW and within the session's budget, so that the round trip of window updates does not
// cap throughput (the bandwidth-delay product). What a stream holds for a reader that stopped is
// at most its window: 256 KiB, or what it grew to while its reader kept up.
const GROW_WITHIN_MS = 50;
/** The largest receive window a stream grows to (4 MiB). */
export const MAX_WINDOW = 4 * 1024 * 1024;

/**
 * A bidirectional stream; reading ends when the peer closes its side, `closeWrite()` closes ours.
 * `read()`, `writeChunks()` and `closeWrite()` are the stream itself; `readable` and `writable`
 * are web streams over them, built when first asked for (a relay of small answers never needs
 * them, and their promises per chunk were a measurable part of a tunnelled request's CPU).
 */
export class YamuxStream {
  #sendWindow = INITIAL_WINDOW;
  #recvWindow = INITIAL_WINDOW;
  #unacknowledged = 0;
  #capacity = INITIAL_WINDOW;
  #lastUpdate = performance.now();
  #queue: Uint8Array[] = [];
  #wakeReader: (() => void) | undefined;
  #wakeWriter: (() => void) | undefined;
  #remoteClosed = false;
  #localClosed = false;
  #error: Error | undefined;
  #outbound: boolean;
  #opened = false;
  #readable: ReadableStream<Uint8Array> | undefined;
  #writable: WritableStream<Uint8Array> | undefined;

  constructor(
    readonly id: number,
    private readonly host: StreamHost,
    options: { outbound: boolean },
  ) {
    // An outbound stream announces itself with its first frame (SYN); an inbound one acknowledges (ACK).
    this.#outbound = options.outbound;
  }

  /** The bytes the peer sends, as a web stream; cancelling it resets the stream. */
  get readable(): ReadableStream<Uint8Array> {
    return this.#readable ??= new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        try {
          const { value, done } = await this.read();
          if (done) controller.close();
          else controller.enqueue(value);
        } catch (error) {
          controller.error(error);
        }
      },
      cancel: () => this.reset(),
    }, { highWaterMark: 0 });
  }

  /** Our side as a web stream: closing it sends FIN, aborting it resets the stream. */
  get writable(): WritableStream<Uint8Array> {
    return this.#writable ??= new WritableStream<Uint8Array>({
      write: (chunk) => this.writeChunks([chunk]),
      close: () => this.closeWrite(),
      abort: () => this.reset(),
    });
  }

  /** Whether the opening flag (SYN or ACK) went out. */
  get opened(): boolean {
    return this.#opened;
  }

  /** True once the peer finished (FIN) and every byte it sent was read. */
  get readEnded(): boolean {
    return this.#remoteClosed && this.#queue.length === 0;
  }

  /** How many bytes the peer may send ahead of the reader: what this stream can be made to hold. */
  get receiveWindow(): number {
    return this.#capacity;
  }

  /** Sends the opening flag (SYN for ours, ACK for theirs) without data. */
  announce(): Promise<void> {
    return this.host.send(FrameType.WindowUpdate, this.#takeOpeningFlag(), this.id, 0);
  }

  /** Aborts both directions and tells the peer (RST). */
  reset(): void {
    if (this.#error) return;
    this.#fail(new Error(`yamux: stream ${this.id} was reset locally`));
    if (this.#opened || !this.#outbound) {
      const flags = this.#takeOpeningFlag() | Flag.RST;
      this.host.send(FrameType.WindowUpdate, flags, this.id, 0).catch(() => {});
    }
    this.host.release(this.id);
  }

  // ---- called by the session ----

  /** Data arrived; a peer that overruns our window breaks the protocol. */
  receive(payload: Uint8Array): boolean {
    if (payload.length > this.#recvWindow) return false;
    this.#recvWindow -= payload.length;
    if (payload.length > 0) this.#queue.push(payload);
    this.#wakeReader?.();
    return true;
  }

  /** The peer granted more window. */
  grant(delta: number): void {
    this.#sendWindow += delta;
    this.#wakeWriter?.();
  }

  /** The peer finished writing (FIN). */
  remoteClose(): void {
    this.#remoteClosed = true;
    this.#wakeReader?.();
    if (this.#localClosed) this.host.release(this.id);
  }

  /** The peer reset the stream, or the session ended. */
  fail(error: Error): void {
    this.#fail(error);
  }

  // ---- internals ----

  /** SYN or ACK on the first frame of the stream, nothing afterwards. */
  #takeOpeningFlag(): number {
    if (this.#opened) return 0;
    this.#opened = true;
    return this.#outbound ? Flag.SYN : Flag.ACK;
  }

  /** The next bytes the peer sent (`done` at its FIN); rejects once the stream failed. */
  async read(): Promise<ReadableStreamReadResult<Uint8Array>> {
    while (true) {
      const chunk = this.#queue.shift();
      if (chunk) {
        this.#consumed(chunk.length);
        return { value: chunk, done: false };
      }
      // After the peer's FIN, what it sent is whole: a later reset (the peer stopped reading
      // us, or the session ended) must not turn that clean end into an error. It did: a hub
      // that saw the agent's RST after its FIN cut an exec's last frames (kubectl: close 1006).
      if (this.#remoteClosed) return { done: true } as ReadableStreamReadDoneResult<Uint8Array>;
      if (this.#error) throw this.#error;
      await new Promise<void>((resolve) => this.#wakeReader = resolve);
      this.#wakeReader = undefined;
    }
  }

  /** Returns window to the peer once the reader took half of it: a slow reader slows only its own stream. */
  #consumed(length: number): void {
    this.#unacknowledged += length;
    if (this.#unacknowledged < this.#capacity / 2) return;
    let delta = this.#unacknowledged;
    const now = performance.now();
    if (
      now - this.#lastUpdate < GROW_WITHIN_MS && this.#capacity < MAX_WINDOW &&
      this.host.mayGrowWindow(this.#capacity)
    ) {
      delta += this.#capacity;
      this.#capacity *= 2;
    }
    this.#lastUpdate = now;
    this.#unacknowledged = 0;
    this.#recvWindow += delta;
    const flags = this.#takeOpeningFlag();
    this.host.send(FrameType.WindowUpdate, flags, this.id, delta).catch(() => {});
  }

  /**
   * Writes chunks as data, in as few frames as the window allows, copying each byte once (into
   * its frame): for a relay that gathered many small chunks, where joining them first and then
   * framing them copied the data twice. With `end`, the last frame carries FIN (a whole answer
   * in one frame). Use it only between awaited writes of `writable`, whose order it would
   * otherwise break.
   */
  async writeChunks(chunks: readonly Uint8Array[], end = false): Promise<void> {
    let left = 0;
    for (const chunk of chunks) left += chunk.length;
    let index = 0;
    let offset = 0;
    while (left > 0) {
      if (this.#error) throw this.#error;
      if (this.#localClosed) throw new Error(`yamux: stream ${this.id} is closed for writing`);
      if (this.#sendWindow === 0) {
        await new Promise<void>((resolve) => this.#wakeWriter = resolve);
        this.#wakeWriter = undefined;
        continue;
      }
      const size = Math.min(left, this.#sendWindow, MAX_FRAME);
      const frame = new Uint8Array(HEADER_SIZE + size);
      const last = end && size === left;
      writeHeader(frame, {
        type: FrameType.Data,
        flags: this.#takeOpeningFlag() | (last ? Flag.FIN : 0),
        streamId: this.id,
        length: size,
      });
      for (let filled = HEADER_SIZE; filled < frame.length;) {
        const chunk = chunks[index]!;
        const part = Math.min(chunk.length - offset, frame.length - filled);
        frame.set(chunk.subarray(offset, offset + part), filled);
        filled += part;
        offset += part;
        if (offset === chunk.length) {
          index++;
          offset = 0;
        }
      }
      this.#sendWindow -= size;
      left -= size;
      if (last) this.#finishWrite();
      await this.host.sendFrame(frame);
    }
    if (end && !this.#localClosed) await this.closeWrite();
  }

  /** Closes our side (FIN); the peer may still send. */
  async closeWrite(): Promise<void> {
    if (this.#error) throw this.#error;
    if (this.#localClosed) return;
    this.#finishWrite();
    await this.host.send(FrameType.WindowUpdate, this.#takeOpeningFlag() | Flag.FIN, this.id, 0);
  }

  #finishWrite(): void {
    this.#localClosed = true;
    if (this.#remoteClosed) this.host.release(this.id);
  }

  #fail(error: Error): void {
    if (this.#error) return;
    this.#error = error;
    this.#wakeReader?.();
    this.#wakeWriter?.();
  }
}
