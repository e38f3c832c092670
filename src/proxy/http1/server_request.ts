/** A request received by the proxy's HTTP/1.1 server; its body arrives as the connection reads it. */
import type { IncomingHttpHeaders } from "node:http";
import type { ProxyRequest } from "../http_exchange.ts";
import { headersObject } from "./_message_head.ts";
import type { RequestHead } from "./request_parser.ts";

/** How much unread body a request holds before the connection stops reading. */
const BODY_HIGH_WATER = 1024 * 1024;

/** The request; `pauseSource`/`resumeSource` throttle the connection while the body is unread. */
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
  #wake: (() => void) | undefined;

  constructor(
    head: RequestHead,
    private readonly source: { pause(): void; resume(): void },
  ) {
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
    this.source.resume();
    return this;
  }

  /** From the connection: a piece of the body. */
  pushBody(chunk: Uint8Array): void {
    if (this.#discard) return;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    if (this.#buffered > BODY_HIGH_WATER) this.source.pause();
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
        if (this.#buffered <= BODY_HIGH_WATER) this.source.resume();
        yield chunk;
        continue;
      }
      if (this.#error) throw this.#error;
      if (this.#ended) return;
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
  }

  #wakeReader(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
