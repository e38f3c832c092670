/**
 * Hand-written fakes of the request path's edges, for fast unit tests of the request handlers:
 * a request and a response as src/http1 gives them, and an Upstream whose answers a test
 * writes. The e2e tests against real clusters remain the evidence that the real ones fit.
 */
import { EventEmitter } from "node:events";
import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import { type Duplex, Readable } from "node:stream";
import type { OutgoingHeaders, ProxyRequest, ProxyResponse } from "../../src/http1/mod.ts";
import type {
  UpgradeResult,
  Upstream,
  UpstreamRequest,
  UpstreamResponse,
} from "../../src/forward/mod.ts";

const encoder = new TextEncoder();

/** A request with these headers (names as written) and body, sent in one chunk. */
export function fakeRequest(
  method: string,
  url: string,
  options: { headers?: Record<string, string>; body?: string } = {},
): ProxyRequest & { resumed: boolean } {
  const rawHeaders = Object.entries(options.headers ?? {}).flat();
  const headers: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    headers[name.toLowerCase()] = value;
  }
  const chunks = options.body === undefined ? [] : [encoder.encode(options.body)];
  return {
    method,
    url,
    headers,
    rawHeaders,
    resumed: false,
    resume() {
      this.resumed = true;
    },
    async *[Symbol.asyncIterator]() {
      yield* chunks;
    },
  };
}

/** A response that records its head and body; `done` settles when it ended or was destroyed. */
export class FakeResponse extends EventEmitter implements ProxyResponse {
  headersSent = false;
  destroyed = false;
  writableFinished = false;
  status = 0;
  statusMessage = "";
  headers: Record<string, string | number | readonly string[]> = {};
  readonly done: Promise<void>;
  #chunks: Uint8Array[] = [];
  #resolve: () => void;

  constructor() {
    super();
    const { promise, resolve } = Promise.withResolvers<void>();
    this.done = promise;
    this.#resolve = resolve;
  }

  setHeader(name: string, value: string | number | readonly string[]): this {
    this.headers[name.toLowerCase()] = value;
    return this;
  }

  writeHead(status: number, messageOrHeaders?: string | OutgoingHeaders, more?: OutgoingHeaders) {
    this.status = status;
    if (typeof messageOrHeaders === "string") this.statusMessage = messageOrHeaders;
    const given = typeof messageOrHeaders === "object" ? messageOrHeaders : more;
    for (const [name, value] of Object.entries(given ?? {})) this.setHeader(name, value);
    return this;
  }

  flushHeaders(): void {
    this.headersSent = true;
  }

  write(chunk: Uint8Array | string): boolean {
    this.headersSent = true;
    this.#chunks.push(typeof chunk === "string" ? encoder.encode(chunk) : chunk);
    return true;
  }

  end(chunk?: Uint8Array | string): this {
    if (chunk !== undefined) this.write(chunk);
    this.headersSent = true;
    this.writableFinished = true;
    this.#close();
    return this;
  }

  destroy(): this {
    this.destroyed = true;
    this.#close();
    return this;
  }

  /** The body written so far, as text. */
  text(): string {
    return new TextDecoder().decode(Buffer.concat(this.#chunks));
  }

  /** The body written so far, parsed. */
  json<T = Record<string, unknown>>(): T {
    return JSON.parse(this.text()) as T;
  }

  #close(): void {
    this.emit("close");
    this.#resolve();
  }
}

/** What a fake upstream's response looks like. */
export interface FakeAnswer {
  status: number;
  statusMessage?: string;
  headers?: Record<string, string>;
  body?: string;
}

/** An upstream's answer with its body in one chunk, as Upstream.request gives it. */
export function upstreamResponse(answer: FakeAnswer): UpstreamResponse & IncomingMessage {
  const body = answer.body === undefined ? [] : [encoder.encode(answer.body)];
  const headers: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(answer.headers ?? {})) {
    headers[name.toLowerCase()] = value;
  }
  return Object.assign(Readable.from(body), {
    statusCode: answer.status,
    statusMessage: answer.statusMessage ?? "",
    headers,
    rawHeaders: Object.entries(answer.headers ?? {}).flat(),
  }) as unknown as UpstreamResponse & IncomingMessage;
}

/** How a fake upstream answers; a missing one fails the test that reaches it. */
export interface FakeUpstreamAnswers {
  request?: (request: UpstreamRequest) => FakeAnswer | Promise<FakeAnswer>;
  read?: (path: string) => FakeAnswer;
  upgrade?: (request: UpstreamRequest) => UpgradeResult;
}

/** An Upstream that records what it was sent and answers as the test says. */
export class FakeUpstream implements Upstream {
  readonly requests: UpstreamRequest[] = [];
  readonly reads: { path: string; headers: Record<string, string> }[] = [];
  readonly upgrades: UpstreamRequest[] = [];
  closed = false;

  constructor(readonly name: string, private readonly answers: FakeUpstreamAnswers) {}

  async request(request: UpstreamRequest): Promise<UpstreamResponse> {
    this.requests.push(request);
    if (!this.answers.request) throw new Error(`Unexpected request to fake "${this.name}"`);
    return upstreamResponse(await this.answers.request(request));
  }

  upgrade(request: UpstreamRequest): Promise<UpgradeResult> {
    this.upgrades.push(request);
    if (!this.answers.upgrade) throw new Error(`Unexpected upgrade to fake "${this.name}"`);
    return Promise.resolve(this.answers.upgrade(request));
  }

  read(
    path: string,
    headers: Record<string, string>,
  ): Promise<{ status: number; body: Uint8Array; contentType: string }> {
    this.reads.push({ path, headers });
    if (!this.answers.read) throw new Error(`Unexpected read from fake "${this.name}"`);
    const answer = this.answers.read(path);
    return Promise.resolve({
      status: answer.status,
      body: encoder.encode(answer.body ?? ""),
      contentType: answer.headers?.["content-type"] ?? "application/json",
    });
  }

  close(): void {
    this.closed = true;
  }
}

/** Collects what a socket receives; `text()` is all of it so far. */
export function socketReader(socket: Duplex): { text(): string; ended: Promise<void> } {
  const chunks: Uint8Array[] = [];
  const { promise: ended, resolve } = Promise.withResolvers<void>();
  socket.on("data", (chunk: Uint8Array) => chunks.push(chunk));
  socket.once("end", () => resolve());
  socket.once("close", () => resolve());
  return { text: () => new TextDecoder().decode(Buffer.concat(chunks)), ended };
}
