import { assert, assertEquals, assertRejects } from "../../_utils/assert.ts";
import type { Duplex } from "../../../src/tunnel/yamux/mod.ts";
import { YamuxSession, type YamuxStream } from "../../../src/tunnel/mod.ts";
import { waitFor } from "../../../src/common/mod.ts";

/** Two connected in-memory duplexes; `split` cuts every chunk into pieces of at most that size. */
function pipePair(split = 0): [Duplex, Duplex] {
  const splitter = () =>
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        if (!split) return controller.enqueue(chunk);
        for (let i = 0; i < chunk.length; i += split) controller.enqueue(chunk.slice(i, i + split));
      },
    });
  const ab = splitter();
  const ba = splitter();
  return [{ readable: ba.readable, writable: ab.writable }, {
    readable: ab.readable,
    writable: ba.writable,
  }];
}

function echoServer(conn: Duplex): YamuxSession {
  return new YamuxSession(conn, {
    client: false,
    keepAliveIntervalMs: 0,
    onStream: (stream) => void stream.readable.pipeTo(stream.writable).catch(() => {}),
  });
}

async function readAll(stream: YamuxStream): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream.readable).arrayBuffer());
}

async function roundTrip(client: YamuxSession, data: Uint8Array): Promise<Uint8Array> {
  const stream = await client.open();
  const reading = readAll(stream);
  const writer = stream.writable.getWriter();
  await writer.write(data);
  await writer.close();
  return await reading;
}

/** A client and a server session on an in-memory pair, and one stream the client opened. */
async function openedStream() {
  const [a, b] = pipePair();
  let accepted: YamuxStream | undefined;
  const server = new YamuxSession(b, {
    client: false,
    keepAliveIntervalMs: 0,
    onStream: (s) => accepted = s,
  });
  const client = new YamuxSession(a, { client: true, keepAliveIntervalMs: 0 });
  const stream = await client.open();
  const serverSide = await waitFor(() => accepted, { description: "the stream to arrive" });
  return { client, server, stream, serverSide };
}

function randomBytes(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i += 65536) {
    crypto.getRandomValues(bytes.subarray(i, Math.min(size, i + 65536)));
  }
  return bytes;
}

Deno.test("YamuxSession echoes data on a stream and ends it cleanly", async () => {
  const [a, b] = pipePair();
  const server = echoServer(b);
  const client = new YamuxSession(a, { client: true, keepAliveIntervalMs: 0 });
  const echoed = await roundTrip(client, new TextEncoder().encode("hello yamux"));
  assertEquals(new TextDecoder().decode(echoed), "hello yamux");
  await waitFor(() => client.streamCount === 0 && server.streamCount === 0, {
    description: "streams to be released",
  });
  await client.close();
  assert(await server.closed);
});

Deno.test("YamuxSession carries 100 concurrent streams of 300 KiB, also when frames are split across reads", async () => {
  for (const split of [0, 7]) {
    const [a, b] = pipePair(split);
    const server = echoServer(b);
    const client = new YamuxSession(a, { client: true, keepAliveIntervalMs: 0 });
    const payloads = Array.from({ length: split ? 10 : 100 }, () => randomBytes(300 * 1024));
    const results = await Promise.all(payloads.map((payload) => roundTrip(client, payload)));
    results.forEach((result, i) => assertEquals(result, payloads[i]));
    await client.close();
    await server.closed;
  }
});

Deno.test("YamuxStream.writeChunks() carries many odd-sized chunks across window waits, bytes intact", async () => {
  const [a, b] = pipePair();
  const server = echoServer(b);
  const client = new YamuxSession(a, { client: true, keepAliveIntervalMs: 0 });
  const stream = await client.open();
  const reading = readAll(stream);
  // 1.5 MiB in chunks of odd sizes: frames end inside chunks, and the 256 KiB window must be
  // waited for several times.
  const chunks = Array.from({ length: 380 }, (_, i) => randomBytes(4093 + (i % 7) * 13));
  await stream.writeChunks(chunks.slice(0, 3));
  await stream.writeChunks(chunks.slice(3));
  await stream.writable.close();
  const expected = new Uint8Array(chunks.reduce((size, chunk) => size + chunk.length, 0));
  chunks.reduce((offset, chunk) => (expected.set(chunk, offset), offset + chunk.length), 0);
  assertEquals(await reading, expected);
  await client.close();
  await server.closed;
});

Deno.test("YamuxSession: a stream nobody reads stalls only itself; one read fast gets a larger window", async () => {
  const [a, b] = pipePair();
  let flooded = 0;
  const server = new YamuxSession(b, {
    client: false,
    keepAliveIntervalMs: 0,
    onStream: (stream) =>
      void (async () => {
        const writer = stream.writable.getWriter();
        const first = (await stream.readable.getReader().read()).value;
        if (new TextDecoder().decode(first) === "flood") {
          // Writes until the window (256 KiB) is used up, then waits for a reader that never comes.
          for (let i = 0; i < 64; i++) {
            await writer.write(new Uint8Array(64 * 1024));
            flooded += 64 * 1024;
          }
        } else {
          await writer.write(first!);
          await writer.close();
        }
      })().catch(() => {}), // the flood ends when the session closes
  });
  const client = new YamuxSession(a, { client: true, keepAliveIntervalMs: 0 });
  const slow = await client.open();
  await slow.writable.getWriter().write(new TextEncoder().encode("flood"));
  await waitFor(() => flooded >= 256 * 1024, { description: "the flood to fill its window" });
  // Another stream still works while the first one is stuck.
  const echoed = await roundTrip(client, new TextEncoder().encode("still alive"));
  assertEquals(new TextDecoder().decode(echoed), "still alive");
  assertEquals(flooded, 256 * 1024, "the unread stream is held at its window");
  // Reading the slow stream lets it continue.
  const reader = slow.readable.getReader();
  let received = 0;
  while (received < 1024 * 1024) received += (await reader.read()).value!.length;
  await waitFor(() => flooded > 256 * 1024, { description: "the flood to continue" });
  // A reader that keeps up earns a larger window (bulk transfers are not capped by round trips).
  await waitFor(() => flooded - received > 256 * 1024, {
    description: "the fast reader's window to grow beyond 256 KiB",
  });
  await client.close();
  await server.closed;
});

Deno.test("YamuxSession: a reset reaches the peer, pings measure the round trip, 1000 streams leave nothing behind", async () => {
  const { client, server, stream, serverSide } = await openedStream();
  stream.reset();
  await assertRejects(() => serverSide.readable.getReader().read(), Error, "reset by the peer");
  assert((await client.ping()) >= 0);
  await client.close();
  await server.closed;

  const [c, d] = pipePair();
  const echo = echoServer(d);
  const many = new YamuxSession(c, { client: true, keepAliveIntervalMs: 0 });
  for (let i = 0; i < 1000; i++) await roundTrip(many, new Uint8Array([i & 0xff]));
  await waitFor(() => many.streamCount === 0 && echo.streamCount === 0, {
    description: "all streams released",
  });
  await many.close();
});

Deno.test("YamuxSession ends when keepalive pings go unanswered (half-open connection)", async () => {
  // A peer that swallows everything: nothing ever comes back.
  const silent: Duplex = { readable: new ReadableStream(), writable: new WritableStream() };
  const session = new YamuxSession(silent, {
    client: true,
    keepAliveIntervalMs: 50,
    keepAliveTimeoutMs: 100,
  });
  const error = await session.closed;
  assert(error?.message.includes("keepalive ping went unanswered"));
  await assertRejects(() => session.open());
});

Deno.test("YamuxSession: streams whose readers kept up grow their windows only within the session's budget", async () => {
  const [a, b] = pipePair();
  // The far side writes 8 MiB on each stream it is asked to.
  const server = new YamuxSession(b, {
    client: false,
    keepAliveIntervalMs: 0,
    onStream: (stream) =>
      void (async () => {
        await stream.readable.getReader().read();
        const writer = stream.writable.getWriter();
        for (let i = 0; i < 128; i++) await writer.write(new Uint8Array(64 * 1024));
        await writer.close();
      })().catch(() => {}),
  });
  const budget = 1024 * 1024;
  const client = new YamuxSession(a, {
    client: true,
    keepAliveIntervalMs: 0,
    windowBudget: budget,
  });
  const streams = await Promise.all(Array.from({ length: 4 }, () => client.open()));
  let largest = 0;
  await Promise.all(streams.map(async (stream) => {
    await stream.writable.getWriter().write(new TextEncoder().encode("go"));
    // Readers that keep up: each asks for a larger window as it goes.
    for await (const _ of stream.readable) {
      const grown = streams.reduce((sum, s) => sum + s.receiveWindow - 256 * 1024, 0);
      assert(grown <= budget, `the windows grew ${grown} bytes beyond their first`);
      largest = Math.max(largest, stream.receiveWindow);
    }
  }));
  assert(largest > 256 * 1024, "no window grew at all");
  await client.close();
  await server.closed;
});

Deno.test("YamuxSession: a reset that follows the peer's FIN leaves what it sent whole and ends cleanly", async () => {
  const { client, server, stream, serverSide } = await openedStream();
  // The client sends its last bytes and FIN, then resets (it stops reading the server), as an
  // agent does when its member closed an exec: the server reads only afterwards.
  const data = randomBytes(100_000);
  const writer = stream.writable.getWriter();
  await writer.write(data);
  await writer.close();
  stream.reset();
  await waitFor(() => client.streamCount === 0, { description: "the reset to be sent" });
  assertEquals(await readAll(serverSide), data);
  await client.close();
  await server.closed;
});

Deno.test("YamuxSession.goAway() stops the peer opening streams while open ones finish", async () => {
  const { client, server, stream, serverSide } = await openedStream();
  await server.goAway();
  await waitFor(() => client.isClosed, { description: "the client to see the GoAway" });
  await assertRejects(() => client.open(), Error, "going away");
  // The stream opened before still carries data both ways.
  const reading = readAll(serverSide);
  const writer = stream.writable.getWriter();
  await writer.write(new Uint8Array([1, 2, 3]));
  await writer.close();
  assertEquals(await reading, new Uint8Array([1, 2, 3]));
  assert(!server.isClosed, "the session that said GoAway stays up until it closes");
  await server.close();
  await client.close();
});

Deno.test("YamuxSession: a GoAway is told to the peer's onGoAway once, with its code; the sender may still open streams; ownStreamCount counts only this side's", async () => {
  const [a, b] = pipePair();
  const told: number[] = [];
  let accepted: YamuxStream | undefined;
  const hub = new YamuxSession(b, { client: false, keepAliveIntervalMs: 0 });
  const agent = new YamuxSession(a, {
    client: true,
    keepAliveIntervalMs: 0,
    onStream: (s) => accepted = s,
    onGoAway: (code) => told.push(code),
  });
  const fromAgent = await agent.open();
  await hub.goAway();
  await hub.goAway();
  await waitFor(() => told.length > 0, { description: "the agent to hear the GoAway" });
  assertEquals(told, [0]);
  assert(!agent.hasEnded, "a GoAway alone does not end the session");
  const fromHub = await hub.open();
  await fromHub.writable.getWriter().write(new Uint8Array([7]));
  const served = await waitFor(() => accepted, { description: "the hub's stream to arrive" });
  assertEquals(hub.ownStreamCount, 1, "the hub opened one stream");
  assertEquals(agent.ownStreamCount, 1, "the agent opened one stream");
  assertEquals(hub.streamCount, 2);
  served.reset();
  fromAgent.reset();
  await waitFor(() => hub.ownStreamCount === 0 || undefined, {
    description: "the hub's stream to end",
  });
  await hub.close();
  await waitFor(() => agent.hasEnded || undefined, { description: "the agent's session to end" });
  assertEquals(told, [0], "the closing GoAway is not told again");
});
