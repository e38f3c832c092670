/**
 * A raw WebSocket exec client: opens an exec stream with one channel subprotocol, writes `text`
 * on stdin and waits until it comes back on stdout (the command must echo its stdin, see
 * ECHO_STDIN). With `closeStdin` (v5.channel.k8s.io only: the protocol's CLOSE signal) it then
 * closes stdin and waits for the command's end and its status; otherwise it closes the socket.
 * Assertions stay with the caller.
 */

export interface ExecEchoOptions {
  token: string;
  caPem: string;
  protocol: string;
  text: string;
  /** Send v5's CLOSE for stdin after the echo and wait for the status on the error channel. */
  closeStdin?: boolean;
}

export interface ExecEchoResult {
  /** The subprotocol the server chose. */
  protocol: string;
  /** Everything received on stdout and stderr, channel bytes stripped. */
  received: string;
  /** With closeStdin: the status the command ended with ("Success" or "Failure"). */
  status?: string;
}

/** An exec command (query parameters) for a container with Deno that copies stdin to stdout. */
export const ECHO_STDIN = new URLSearchParams([
  ["command", "deno"],
  ["command", "eval"],
  ["command", "for await (const chunk of Deno.stdin.readable) await Deno.stdout.write(chunk)"],
]).toString();

const STDIN = 0;
const ERROR = 3;
/** v5.channel.k8s.io: a frame on this channel closes the stream whose id it carries. */
const CLOSE = 255;

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
  let errorChannel = "";
  const closed = new Promise<void>((resolve) => socket.onclose = () => resolve());
  const echoed = new Promise<void>((resolve, reject) => {
    socket.onmessage = (event) => {
      const frame = new Uint8Array(event.data as ArrayBuffer);
      const text = new TextDecoder().decode(frame.subarray(1));
      if (frame[0] === ERROR) errorChannel += text;
      else received.push(text);
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
  if (options.closeStdin) {
    socket.send(new Uint8Array([CLOSE, STDIN]));
    await closed;
    const status = errorChannel ? (JSON.parse(errorChannel) as { status?: string }).status : "";
    return { protocol, received: received.join(""), status: status ?? "" };
  }
  socket.close();
  await closed;
  return { protocol, received: received.join("") };
}
