/**
 * One kept-alive HTTP/1.1 connection to an upstream, one exchange at a time, on a node:tls or
 * node:net socket with TCP_NODELAY. The answer is a node Readable with the fields of node's
 * IncomingMessage that the proxy reads (statusCode, statusMessage, headers, rawHeaders); the
 * socket is paused while the reader is behind, so a slow client slows the upstream read.
 */
import type { IncomingHttpHeaders } from "node:http";
import type { Socket } from "node:net";
import { Readable } from "node:stream";
import { headersFromRaw } from "./_message_head.ts";
import { pauseSocket, resumeSocket } from "./pause_socket.ts";
import { type ResponseHead, ResponseParser } from "./response_parser.ts";

/** How much of an answer may wait unread before the connection stops reading. */
const ANSWER_HIGH_WATER = 256 * 1024;

/** An upstream's answer: its head, and its body as a stream. */
export class Http1Response extends Readable {
  readonly statusCode: number;
  readonly statusMessage: string;
  readonly rawHeaders: string[];
  #headers: IncomingHttpHeaders | undefined;
  #source: { resume(): void; abandon(error: Error | null): void };

  constructor(
    head: ResponseHead,
    source: { resume(): void; abandon(error: Error | null): void },
  ) {
    // Deno's TLS reads bring up to 64 KiB: with node's 16 KiB default every read of a large
    // answer paused and resumed the socket.
    super({ highWaterMark: ANSWER_HIGH_WATER });
    this.statusCode = head.status;
    this.statusMessage = head.statusText;
    this.rawHeaders = head.rawHeaders;
    this.#source = source;
  }

  /**
   * Built when first read (the proxy relays from rawHeaders and never needs it); repeated
   * headers become arrays, as they are written back one line each.
   */
  get headers(): IncomingHttpHeaders {
    return this.#headers ??= headersFromRaw(this.rawHeaders) as IncomingHttpHeaders;
  }

  override _read(): void {
    this.#source.resume();
  }

  /** A reader that stops before the end (a client gone from a watch) closes the connection. */
  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#source.abandon(error);
    callback(error);
  }
}

/** The connection closed before the first byte of an answer: safe to send again elsewhere. */
export class ConnectionLostError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConnectionLostError";
  }
}

/** A connection that carries one exchange at a time. */
export class Http1Connection {
  readonly socket: Socket;
  /** How many exchanges it carried to their end. */
  completed = 0;
  #parser: ResponseParser | undefined;
  #response: Http1Response | undefined;
  #waiting: { resolve(r: Http1Response): void; reject(e: Error): void } | undefined;
  #gotBytes = false;
  #closed = false;
  #paused = false;

  constructor(socket: Socket, private readonly onReusable: (c: Http1Connection) => void) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on("data", (data: Uint8Array) => this.#onData(data));
    socket.on("end", () => this.#onClose(undefined));
    socket.on("close", () => this.#onClose(undefined));
    socket.on("error", (error: Error) => this.#onClose(error));
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Sends a request (head bytes, optional body) and resolves with the answer's head. */
  send(method: string, head: Uint8Array, body: Uint8Array | undefined): Promise<Http1Response> {
    if (this.#closed) return Promise.reject(new ConnectionLostError("the connection is closed"));
    this.#parser = new ResponseParser(method);
    this.#gotBytes = false;
    this.socket.ref();
    // A body that filled its reader's buffer paused the socket; the next answer must flow.
    this.#resumeSocket();
    const answered = new Promise<Http1Response>((resolve, reject) => {
      this.#waiting = { resolve, reject };
    });
    this.socket.cork();
    this.socket.write(head);
    if (body && body.length > 0) this.socket.write(body);
    this.socket.uncork();
    return answered;
  }

  /** Ends the connection and whatever exchange it carries. */
  destroy(error?: Error): void {
    this.socket.destroy(error);
    this.#onClose(error);
  }

  #resumeSocket(): void {
    if (!this.#paused) return;
    this.#paused = false;
    resumeSocket(this.socket);
  }

  #onData(data: Uint8Array) {
    if (!this.#parser) {
      // Nothing was asked: an idle connection that talks is broken.
      return this.destroy(new Error("the server sent data nobody asked for"));
    }
    this.#gotBytes = true;
    let events;
    try {
      events = this.#parser.push(data);
    } catch (error) {
      return this.destroy(new Error(`invalid HTTP answer: ${(error as Error).message}`));
    }
    for (const event of events) {
      if (event.type === "head") {
        const response: Http1Response = new Http1Response(event.head, {
          resume: () => this.#resumeSocket(),
          abandon: (error) => {
            if (this.#response === response) {
              this.destroy(error ?? new Error("the answer was abandoned before its end"));
            }
          },
        });
        // Errors reach readers through their iteration or their own listener; one that
        // stopped reading (a relay whose client left) must not turn a later abort into a crash.
        response.on("error", () => {});
        this.#response = response;
        this.#waiting?.resolve(this.#response);
        this.#waiting = undefined;
      } else if (event.type === "body") {
        if (!this.#response!.push(event.chunk) && !this.#paused) {
          this.#paused = true;
          pauseSocket(this.socket);
        }
      } else {
        this.#response!.push(null);
        this.#response = undefined;
        this.#parser = undefined;
        this.completed++;
        if (event.reusable) {
          this.socket.unref();
          this.onReusable(this);
        } else {
          this.socket.end();
          this.#closed = true;
        }
      }
    }
  }

  #onClose(error: Error | undefined) {
    if (this.#closed && !this.#parser) return;
    this.#closed = true;
    const parser = this.#parser;
    this.#parser = undefined;
    if (!parser) return;
    let failure = error;
    if (!failure) {
      try {
        // A body that runs until the connection closes ends here.
        for (const event of parser.close()) {
          if (event.type === "end") this.#response?.push(null);
        }
        return;
      } catch (closeError) {
        failure = closeError as Error;
      }
    }
    const message = failure.message;
    if (this.#waiting) {
      this.#waiting.reject(
        this.#gotBytes ? failure : new ConnectionLostError(message),
      );
      this.#waiting = undefined;
    }
    this.#response?.destroy(failure);
    this.#response = undefined;
  }
}
