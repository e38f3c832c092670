/**
 * The request and response that the sidecar's and the hub's handlers read and write, served by
 * this folder's server (server_request.ts, server_response.ts). They are the part of node:http's
 * IncomingMessage and ServerResponse that the handlers use, so node:http's objects fit them too.
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
