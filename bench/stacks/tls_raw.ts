/**
 * A pass-through proxy on bare node:tls sockets, both sides, with TCP_NODELAY and the least
 * HTTP/1.1 it needs: GETs without bodies in, answers with a Content-Length out. It measures what
 * node:http's own parsing and streams cost on top of node:tls; it is not a general proxy.
 */
import { Buffer } from "node:buffer";
import tls from "node:tls";

const HEAD_END = Buffer.from("\r\n\r\n");

/** An exchange waiting for, or using, an upstream connection. */
interface Exchange {
  request: Buffer;
  onHead(statusLine: string, headers: string, length: number): void;
  onBody(chunk: Buffer): void;
}

/** One kept-alive upstream connection; answers are read by their Content-Length. */
class UpstreamConnection {
  readonly socket: tls.TLSSocket;
  #buffered: Buffer = Buffer.alloc(0);
  #current: Exchange | undefined;
  #remaining = -1;

  constructor(upstream: URL, ca: string, onIdle: (connection: UpstreamConnection) => void) {
    this.socket = tls.connect({
      host: upstream.hostname,
      port: Number(upstream.port),
      ca,
      servername: "localhost",
    });
    this.socket.setNoDelay(true);
    this.socket.on("data", (data: Buffer) => {
      let chunk = data;
      if (this.#remaining < 0) {
        this.#buffered = this.#buffered.length ? Buffer.concat([this.#buffered, chunk]) : chunk;
        const end = this.#buffered.indexOf(HEAD_END);
        if (end < 0) return;
        const head = this.#buffered.subarray(0, end).toString("latin1");
        chunk = this.#buffered.subarray(end + 4);
        this.#buffered = Buffer.alloc(0);
        this.#remaining = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
        const lineEnd = head.indexOf("\r\n");
        this.#current!.onHead(head.slice(0, lineEnd), head.slice(lineEnd + 2), this.#remaining);
      }
      if (chunk.length > 0) {
        this.#remaining -= chunk.length;
        this.#current!.onBody(chunk);
      }
      if (this.#remaining === 0) {
        this.#remaining = -1;
        this.#current = undefined;
        onIdle(this);
      }
    });
  }

  send(exchange: Exchange) {
    this.#current = exchange;
    this.socket.write(exchange.request);
  }
}

/** Serves on `port` and forwards every GET to `upstream`. */
export function serveTlsRaw(
  options: { port: number; upstream: URL; ca: string; cert: string; key: string },
): void {
  const idle: UpstreamConnection[] = [];
  const waiting: Exchange[] = [];
  const onIdle = (connection: UpstreamConnection) => {
    const next = waiting.shift();
    if (next) connection.send(next);
    else idle.push(connection);
  };
  const forward = (exchange: Exchange) => {
    const connection = idle.pop() ?? new UpstreamConnection(options.upstream, options.ca, onIdle);
    connection.send(exchange);
  };
  tls.createServer({ cert: options.cert, key: options.key }, (socket) => {
    socket.setNoDelay(true);
    socket.on("error", () => socket.destroy());
    let buffered: Buffer = Buffer.alloc(0);
    socket.on("data", (data: Buffer) => {
      buffered = buffered.length ? Buffer.concat([buffered, data]) : data;
      for (let end = buffered.indexOf(HEAD_END); end >= 0; end = buffered.indexOf(HEAD_END)) {
        const head = buffered.subarray(0, end).toString("latin1");
        buffered = buffered.subarray(end + 4);
        const path = head.split(" ", 2)[1] ?? "/";
        const authorization = /\r\nauthorization:\s*([^\r]*)/i.exec(head)?.[1];
        forward({
          request: Buffer.from(
            `GET ${path} HTTP/1.1\r\nhost: ${options.upstream.host}\r\n` +
              (authorization ? `authorization: ${authorization}\r\n` : "") + "\r\n",
            "latin1",
          ),
          onHead(statusLine, headers, length) {
            const type = /(?:^|\r\n)content-type:\s*([^\r]*)/i.exec(headers)?.[1] ??
              "application/json";
            socket.write(
              `${statusLine}\r\ncontent-type: ${type}\r\ncontent-length: ${length}\r\n\r\n`,
            );
          },
          onBody: (chunk) => socket.write(chunk),
        });
      }
    });
  }).listen(options.port, "127.0.0.1", () => console.log("ready"));
}
