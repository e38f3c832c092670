/**
 * A raw HTTP/1.1 client over a byte duplex, for answers a fetch cannot show: an upgrade's 101
 * and the bytes that follow it, a refusal's body and the connection's end.
 */
import type { Duplex } from "node:stream";

/** An answer's head, and the connection to read on (and write to) after it. */
export interface RawHttpAnswer {
  status: number;
  headers: Record<string, string>;
  /** Reads until `text` arrived after the head; everything after the head so far. */
  readUntil(text: string): Promise<string>;
  /** Reads until the connection ends; everything after the head. */
  readToEnd(): Promise<string>;
  write(text: string): void;
  close(): void;
}

/** Byte chunks of a connection as text (latin1), with waiters for what is to come. */
export class ConnectionReader {
  text = "";
  ended = false;
  #waiters: (() => void)[] = [];

  constructor(private readonly socket: Duplex) {
    socket.on("data", (chunk: Uint8Array) => {
      this.text += new TextDecoder("latin1").decode(chunk);
      this.#wake();
    });
    const end = () => {
      this.ended = true;
      this.#wake();
    };
    socket.on("end", end);
    socket.on("close", end);
    socket.on("error", end);
  }

  /** Waits until `ready()` holds or the connection ended; fails after `timeoutMs`. */
  async until(ready: () => boolean, timeoutMs = 10_000): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`Nothing more came within ${timeoutMs} ms; got "${this.text}"`)),
        timeoutMs,
      );
    });
    try {
      while (!ready() && !this.ended) {
        await Promise.race([
          new Promise<void>((resolve) => this.#waiters.push(resolve)),
          expired,
        ]);
      }
    } finally {
      clearTimeout(timer);
    }
  }

  #wake(): void {
    for (const wake of this.#waiters.splice(0)) wake();
  }
}

/** Sends `request` (head and early bytes, as written) and reads the answer's head. */
export async function rawHttpExchange(socket: Duplex, request: string): Promise<RawHttpAnswer> {
  const reader = new ConnectionReader(socket);
  socket.write(request);
  await reader.until(() => reader.text.includes("\r\n\r\n"));
  const end = reader.text.indexOf("\r\n\r\n");
  if (end < 0) throw new Error(`The connection ended before an answer's head: "${reader.text}"`);
  const [statusLine, ...lines] = reader.text.slice(0, end).split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const start = end + 4;
  const after = () => reader.text.slice(start);
  return {
    status: Number(statusLine?.split(" ")[1]),
    headers,
    async readUntil(text) {
      await reader.until(() => after().includes(text));
      if (!after().includes(text)) throw new Error(`"${text}" never came; got "${after()}"`);
      return after();
    },
    async readToEnd() {
      await reader.until(() => false);
      return after();
    },
    write: (text) => void socket.write(text),
    close: () => void socket.destroy(),
  };
}
