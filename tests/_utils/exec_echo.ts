/**
 * A raw WebSocket exec client: opens an exec stream with one channel subprotocol, writes
 * `text` on stdin and waits until it comes back on stdout (the stand-in kubelet echoes stdin),
 * then closes. Assertions stay with the caller.
 */

export interface ExecEchoOptions {
  token: string;
  caPem: string;
  protocol: string;
  text: string;
}

export interface ExecEchoResult {
  /** The subprotocol the server chose. */
  protocol: string;
  /** Everything received on the data channels, channel bytes stripped. */
  received: string;
}

const STDIN = 0;

/** `url` is the https URL of the exec endpoint; the WebSocket scheme is derived from it. */
export async function execEcho(url: string, options: ExecEchoOptions): Promise<ExecEchoResult> {
  const socket = new WebSocket(
    url.replace(/^https/, "wss"),
    {
      protocols: [options.protocol],
      headers: { Authorization: `Bearer ${options.token}` },
      client: Deno.createHttpClient({ caCerts: [options.caPem] }),
    } as unknown as string[],
  );
  socket.binaryType = "arraybuffer";
  const received: string[] = [];
  const echoed = new Promise<void>((resolve, reject) => {
    socket.onmessage = (event) => {
      received.push(
        new TextDecoder().decode(new Uint8Array(event.data as ArrayBuffer).subarray(1)),
      );
      if (received.join("").includes(options.text)) resolve();
    };
    socket.onerror = (event) =>
      reject(
        new Error(`WebSocket error: ${(event as ErrorEvent).message || "the upgrade failed"}`),
      );
  });
  await Promise.race([new Promise<void>((resolve) => socket.onopen = () => resolve()), echoed]);
  const protocol = socket.protocol;
  socket.send(new Uint8Array([STDIN, ...new TextEncoder().encode(options.text)]));
  await echoed;
  const closed = new Promise((resolve) => socket.onclose = resolve);
  socket.close();
  await closed;
  return { protocol, received: received.join("") };
}
