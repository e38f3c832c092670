/** Wire compatibility with github.com/hashicorp/yamux, both ways, over real TCP. */
import { assertEquals, assertStringIncludes } from "../../_utils/assert.ts";
import { yamuxGoBinary } from "../../_utils/real_clients.ts";
import { YamuxSession } from "../../../src/tunnel/mod.ts";

Deno.test("mca's yamux client talks to a hashicorp/yamux server (50 streams of 200 KiB, ping)", async () => {
  const server = new Deno.Command(await yamuxGoBinary(), {
    args: ["server"],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = server.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let line = "";
  while (!/listening \d+/.test(line)) line += (await reader.read()).value ?? "";
  const port = Number(/listening (\d+)/.exec(line)![1]);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const session = new YamuxSession(conn, { client: true, keepAliveIntervalMs: 0 });
  try {
    const payloads = Array.from({ length: 50 }, (_, i) => new Uint8Array(200 * 1024).fill(i));
    const echoes = await Promise.all(payloads.map(async (payload) => {
      const stream = await session.open();
      const reading = new Response(stream.readable).arrayBuffer();
      const writer = stream.writable.getWriter();
      await writer.write(payload);
      await writer.close();
      return new Uint8Array(await reading);
    }));
    echoes.forEach((echo, i) => assertEquals(echo, payloads[i]));
    await session.ping();
  } finally {
    await session.close();
    server.kill();
    await server.status;
    await reader.cancel();
  }
});

Deno.test("a hashicorp/yamux client talks to mca's yamux server (50 streams of 200 KiB, ping)", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const sessions: YamuxSession[] = [];
  const accepting = (async () => {
    for await (const conn of listener) {
      sessions.push(
        new YamuxSession(conn, {
          client: false,
          keepAliveIntervalMs: 0,
          onStream: (stream) => void stream.readable.pipeTo(stream.writable).catch(() => {}),
        }),
      );
    }
  })();
  try {
    const output = await new Deno.Command(await yamuxGoBinary(), {
      args: ["client", `127.0.0.1:${listener.addr.port}`, "50", String(200 * 1024)],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(output.stderr);
    assertEquals(output.code, 0, stderr);
    assertStringIncludes(new TextDecoder().decode(output.stdout), "ok");
  } finally {
    listener.close();
    await accepting.catch(() => {});
    await Promise.all(sessions.map((s) => s.close()));
  }
});
