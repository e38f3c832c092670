/**
 * A yamux peer that breaks the rules on purpose (an agent holding a valid token, a hub
 * impostor): the session must end or push back, never buffer without bound.
 */
import { assert } from "../../_utils/assert.ts";
import { encodeFrame, Flag, FrameType, YamuxSession } from "../../../src/tunnel/mod.ts";
import { waitFor } from "../../../src/common/mod.ts";

/** A session's far end written frame by frame; what the session sends is counted, or held. */
function rawPeer(options: { read: boolean }) {
  const toSession = new TransformStream<Uint8Array, Uint8Array>();
  // Nothing reads this side while `read` is false: the session's writes queue up.
  const fromSession = new TransformStream<Uint8Array, Uint8Array>(undefined, undefined, {
    highWaterMark: 1,
  });
  let received = 0;
  if (options.read) {
    void fromSession.readable.pipeTo(
      new WritableStream({ write: (chunk) => void (received += chunk.length) }),
    ).catch(() => {});
  }
  return {
    conn: { readable: toSession.readable, writable: fromSession.writable },
    writer: toSession.writable.getWriter(),
    received: () => received,
    /** Starts reading what the session sent (for a peer made with `read: false`). */
    readAll: (count: (bytes: number) => void) =>
      fromSession.readable.pipeTo(new WritableStream({ write: (chunk) => count(chunk.length) }))
        .catch(() => {}),
  };
}

Deno.test("YamuxSession ends at once when a data frame claims more than any window allows", async () => {
  const peer = rawPeer({ read: true });
  const session = new YamuxSession(peer.conn, { client: false, keepAliveIntervalMs: 0 });
  // A SYN with a 4 GiB data frame: the old session kept every byte of it, waiting for the rest.
  const header = encodeFrame({
    type: FrameType.Data,
    flags: Flag.SYN,
    streamId: 1,
    length: 0xffff_ffff,
  });
  await peer.writer.write(header);
  let ended: Error | undefined;
  void session.closed.then((error) => ended = error);
  const chunk = new Uint8Array(1024 * 1024);
  for (let sent = 0; sent < 64 && !ended; sent++) {
    await peer.writer.write(chunk).catch(() => {});
    // Let the session read what was written.
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  const error = await waitFor(() => ended, {
    description: "the session to end on the oversized frame",
    timeoutMs: 5_000,
  });
  assert(error.message.includes("window"), error.message);
});

/** Event-loop turns until `value()` stopped changing for `still` turns in a row. */
async function settled(value: () => number, still = 20): Promise<number> {
  let last = value();
  for (let same = 0, turns = 0; same < still && turns < 10_000; turns++) {
    await new Promise((resolve) => setTimeout(resolve, 0));
    const now = value();
    same = now === last ? same + 1 : 0;
    last = now;
  }
  return last;
}

Deno.test("YamuxSession stops reading pings while its peer does not read the answers", async () => {
  const peer = rawPeer({ read: false });
  const session = new YamuxSession(peer.conn, { client: false, keepAliveIntervalMs: 0 });
  const ping = encodeFrame({ type: FrameType.Ping, flags: Flag.SYN, streamId: 0, length: 7 });
  const batch = new Uint8Array(ping.length * 4096);
  for (let i = 0; i < 4096; i++) batch.set(ping, i * ping.length);
  // 204,800 pings (2.4 MiB) answered into a connection nobody reads: the old session read them
  // all and queued every answer; now its reading waits once a few hundred KiB are queued.
  const batches = 50;
  let accepted = 0;
  const writing = (async () => {
    for (let i = 0; i < batches; i++) {
      await peer.writer.write(batch);
      accepted += batch.length;
    }
  })();
  const taken = await settled(() => accepted);
  assert(taken <= 1024 * 1024, `the session took ${taken} bytes of pings without being read`);
  // Once the peer reads, the session answers every ping.
  let received = 0;
  const reading = peer.readAll((bytes) => received += bytes);
  await writing;
  await waitFor(() => received === batches * batch.length, {
    description: "every ping answered",
    timeoutMs: 10_000,
  });
  await session.close();
  await reading;
});

Deno.test("YamuxSession ends when the peer opens more streams than maxInboundStreams", async () => {
  const peer = rawPeer({ read: true });
  const opened: number[] = [];
  const session = new YamuxSession(peer.conn, {
    client: false,
    keepAliveIntervalMs: 0,
    maxInboundStreams: 3,
    // As the hub does with an agent's extra streams: each is refused at once.
    onStream: (stream) => {
      opened.push(stream.id);
      stream.reset();
    },
  });
  let ended: Error | undefined;
  void session.closed.then((error) => ended = error);
  for (let id = 1; id < 2000 && !ended; id += 2) {
    const syn = encodeFrame({
      type: FrameType.WindowUpdate,
      flags: Flag.SYN,
      streamId: id,
      length: 0,
    });
    await peer.writer.write(syn).catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  const error = await waitFor(() => ended, { description: "the session to end", timeoutMs: 5_000 });
  assert(error.message.includes("opened more than 3 streams"), error.message);
  assert(opened.length === 3, `${opened.length} streams were handed on`);
});
