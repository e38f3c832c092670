/**
 * The parts of a request and its response that the proxy's handlers use. node:http's
 * IncomingMessage and ServerResponse fit them (the hub serves with node:http), and so do the
 * proxy's own HTTP/1.1 server's (src/proxy/http1), which serves the sidecar for less CPU.
 */
import type { IncomingHttpHeaders } from "node:http";

/** Response headers as given to writeHead; arrays become repeated lines. */
export type OutgoingHeaders = Record<string, string | number | string[]>;

/** A request as the handlers read it; the body is read by iterating. */
export interface ProxyRequest extends AsyncIterable<Uint8Array> {
  readonly method?: string | undefined;
  /** The request target: path and query. */
  readonly url?: string | undefined;
  readonly headers: IncomingHttpHeaders;
  /** Name, value, name, value... as received. */
  readonly rawHeaders: string[];
  /** Discards the rest of the body. */
  resume(): unknown;
}

/** A response as the handlers write it: head once, then the body, with backpressure. */
export interface ProxyResponse {
  readonly headersSent: boolean;
  readonly destroyed: boolean;
  /** True once the whole response was handed to the connection. */
  readonly writableFinished: boolean;
  setHeader(name: string, value: string | number | readonly string[]): unknown;
  writeHead(statusCode: number, statusMessage: string, headers?: OutgoingHeaders): unknown;
  writeHead(statusCode: number, headers?: OutgoingHeaders): unknown;
  /** False when the caller should wait for "drain". */
  write(chunk: Uint8Array | string): boolean;
  end(chunk?: Uint8Array | string): unknown;
  /** Sends the head now (streams: the client sees the status before the first event). */
  flushHeaders(): void;
  destroy(): unknown;
  /** "close" comes once, after the end or when the connection is lost. */
  once(event: "drain" | "close", listener: () => void): unknown;
  off(event: "drain" | "close", listener: () => void): unknown;
}
