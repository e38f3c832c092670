import { assertEquals } from "../_utils/assert.ts";
// @ts-types="npm:@types/ws@8.18.1"
import { WebSocket, WebSocketServer } from "ws";
import { websocketDuplex } from "../../src/tunnel/mod.ts";
import { waitFor } from "../../src/common/mod.ts";

Deno.test("websocketDuplex: writes held back by a reader that pauses all finish once it reads", async () => {
  const server = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  const accepted = new Promise<WebSocket>((resolve) => server.once("connection", resolve));
  await new Promise((resolve) => server.once("listening", resolve));
  const { port } = server.address() as { port: number };
  const client = new WebSocket(`ws://127.0.0.1:${port}`);
  await new Promise((resolve) => client.once("open", resolve));
  const receiving = websocketDuplex(await accepted);
  const sending = websocketDuplex(client);
  try {
    // Nobody reads yet: the socket buffers fill and writes start to wait (backpressure).
    const writer = sending.writable.getWriter();
    const chunk = new Uint8Array(300 * 1024).fill(7);
    const writes: Promise<void>[] = [];
    let settled = 0;
    for (let i = 0; i < 40; i++) {
      const write = writer.write(chunk).then(() => void settled++);
      writes.push(write);
    }
    await waitFor(() => client.bufferedAmount > 512 * 1024, {
      description: "the sender to hold data back",
    });
    // Now read everything: every write must finish, including the one that crossed the mark.
    const reader = receiving.readable.getReader();
    let received = 0;
    while (received < 40 * chunk.length) {
      const { value, done } = await reader.read();
      if (done) break;
      received += value.length;
    }
    await waitFor(() => settled === 40, { timeoutMs: 5_000, description: "every write to finish" });
    assertEquals(received, 40 * chunk.length);
    reader.releaseLock();
    writer.releaseLock();
  } finally {
    client.terminate();
    server.close();
  }
});
