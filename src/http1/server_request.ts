/** A request received by the proxy's HTTP/1.1 server; its body arrives as the connection reads it. */
import type { IncomingHttpHeaders } from "node:http";
import type { Socket } from "node:net";
import type { ProxyRequest } from "./exchange.ts";
import { headersObject } from "./_message_head.ts";
import { pauseSocket, resumeSocket } from "./pause_socket.ts";
import type { RequestHead } from "./request_parser.ts";

/** How much unread body a request holds before the connection stops reading. */
const BODY_HIGH_WATER = 1024 * 1024;

/** The request; the connection stops reading while much of its body is unread. */
export class Http1ServerRequest implements ProxyRequest {
  readonly method: string;
  readonly url: string;
  readonly httpVersion: string;
  readonly rawHeaders: string[];
  #headers: IncomingHttpHeaders | undefined;
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  #ended = false;
  #error: Error | undefined;
  #discard = false;
  #paused = false;
  #wake: (() => void) | undefined;

  /** The connection (TLS: its peer certificate says who a mutually authenticated client is). */
  readonly socket: Socket;

  constructor(head: RequestHead, socket: Socket) {
    this.socket = socket;
    this.method = head.method;
    this.url = head.target;
    this.httpVersion = head.version;
    this.rawHeaders = head.rawHeaders;
  }

  get headers(): IncomingHttpHeaders {
    return this.#headers ??= headersObject(this.rawHeaders);
  }

  /** True once the whole body arrived. */
  get complete(): boolean {
    return this.#ended;
  }

  resume(): this {
    this.#discard = true;
    this.#chunks = [];
    this.#buffered = 0;
    if (this.#paused) this.#resumeSocket();
    return this;
  }

  /** From the connection: a piece of the body. */
  pushBody(chunk: Uint8Array): void {
    if (this.#discard) return;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    if (this.#buffered > BODY_HIGH_WATER && !this.#paused) {
      this.#paused = true;
      pauseSocket(this.socket);
    }
    this.#wakeReader();
  }

  /** From the connection: the body is complete, or can never be (`error`). */
  finish(error?: Error): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    this.#wakeReader();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    while (true) {
      const chunk = this.#chunks.shift();
      if (chunk) {
        this.#buffered -= chunk.length;
        if (this.#paused && this.#buffered <= BODY_HIGH_WATER) this.#resumeSocket();
        yield chunk;
        continue;
      }
      if (this.#error) throw this.#error;
      if (this.#ended) return;
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
  }

  #resumeSocket(): void {
    this.#paused = false;
    resumeSocket(this.socket);
  }

  #wakeReader(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
