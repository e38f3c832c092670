/**
 * A raw TLS client: sends bytes exactly as given (requests no HTTP library would write, or would
 * repair) and reads the answer's head and body, for the request-path tests of the sidecar and
 * the hub.
 */

/** An answer as received. */
export interface RawAnswer {
  status: number;
  /** Header lines after the status line, names in lower case. */
  headers: Record<string, string>;
  body: string;
}

/** One byte per char, so a test can send any byte (a latin1 0xa0, a lone CR) as it is. */
export function latin1Bytes(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0) & 0xff);
}

/** Opens a TLS connection to `url`'s host and port, trusting `caPem`. */
export function connectRaw(url: string, caPem: string): Promise<Deno.TlsConn> {
  const { hostname, port } = new URL(url);
  return Deno.connectTls({ hostname, port: Number(port || 443), caCerts: [caPem] });
}

/**
 * Sends `request` and reads the answer: its head, then a body of its Content-Length, or until
 * the connection closes (the request should say `Connection: close`). `headOnly` stops after
 * the head (an upgrade that succeeded keeps the connection open).
 */
export async function rawExchange(
  url: string,
  caPem: string,
  request: string | Uint8Array,
  options: { headOnly?: boolean; timeoutMs?: number } = {},
): Promise<RawAnswer> {
  const conn = await connectRaw(url, caPem);
  const timer = setTimeout(() => conn.close(), options.timeoutMs ?? 15_000);
  try {
    // One write may take only part of a large request (a 100 KB header): write until all is out.
    const bytes = typeof request === "string" ? latin1Bytes(request) : request;
    for (let sent = 0; sent < bytes.length;) sent += await conn.write(bytes.subarray(sent));
    return await readAnswer(conn, options.headOnly ?? false);
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* closed by the timer or the server */ }
  }
}

/** Reads one answer from a connection (see rawExchange). */
export async function readAnswer(conn: Deno.Conn, headOnly: boolean): Promise<RawAnswer> {
  const decoder = new TextDecoder("latin1");
  let text = "";
  const buffer = new Uint8Array(64 * 1024);
  let headEnd = -1;
  let length: number | undefined;
  while (true) {
    if (headEnd < 0) headEnd = text.indexOf("\r\n\r\n");
    if (headEnd >= 0) {
      if (headOnly) break;
      length ??= Number(/\r\ncontent-length: *(\d+)/i.exec(text.slice(0, headEnd))?.[1] ?? NaN);
      if (text.length - headEnd - 4 >= length) break;
    }
    let read: number | null;
    try {
      read = await conn.read(buffer);
    } catch {
      read = null;
    }
    if (read === null) break;
    text += decoder.decode(buffer.subarray(0, read));
  }
  if (headEnd < 0) throw new Error(`No complete answer: ${JSON.stringify(text.slice(0, 200))}`);
  const [statusLine, ...lines] = text.slice(0, headEnd).split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return {
    status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? "")?.[1] ?? NaN),
    headers,
    body: text.slice(headEnd + 4),
  };
}
