/**
 * Backpressure reaches the kernel: a TLS socket whose reader stopped takes no more bytes from
 * the kernel, so its peer is held back and nothing piles up in the process. Measured with the
 * socket's own byte count (what it read from the kernel), not the process's memory.
 */
import { Buffer } from "node:buffer";
import type { Socket } from "node:net";
import tls from "node:tls";
import { assert, assertEquals } from "../_utils/assert.ts";
import { createTestPki, type TestPki } from "../_utils/test_pki.ts";
import { waitFor } from "../../src/common/mod.ts";
import { encodeRequestHead, Http1Pool } from "../../src/http1/http1_pool.ts";
import { listenHttp1 } from "../../src/http1/http1_server.ts";
import type { Http1ServerRequest } from "../../src/http1/server_request.ts";
import { pauseSocket, resumeSocket } from "../../src/http1/pause_socket.ts";

const MiB = 1024 * 1024;
/** Far more than the kernel's socket buffers on loopback (a few MiB each way). */
const TOTAL = 64 * MiB;
/** What a stopped reader may have taken: its own buffers and what came in before it stopped. */
const BOUND = 16 * MiB;

let pki: TestPki | undefined;

/**
 * Writes `TOTAL` bytes to whoever connects, honouring backpressure. `head` goes first (an HTTP
 * answer's head, say); `blocked()` says it waits for the kernel to take more.
 */
async function writer(head = "") {
  pki ??= await createTestPki();
  let written = 0;
  let blocked = false;
  const sockets: Socket[] = [];
  const server = tls.createServer(
    { cert: pki.server.certificatePem, key: pki.server.privateKeyPem },
    (socket) => {
      sockets.push(socket);
      socket.on("error", () => {});
      const chunk = Buffer.alloc(64 * 1024, 120);
      const pump = () => {
        blocked = false;
        while (written < TOTAL) {
          written += chunk.length;
          if (!socket.write(chunk)) {
            blocked = true;
            return void socket.once("drain", pump);
          }
        }
      };
      socket.once("data", () => {
        if (head) socket.write(head);
        pump();
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as { port: number }).port,
    written: () => written,
    blocked: () => blocked,
    [Symbol.asyncDispose]: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function connect(port: number): Socket {
  return tls.connect({ host: "127.0.0.1", port, ca: pki!.ca.certificatePem });
}

/**
 * Waits until the peer's writes and the socket's reads have both stopped (the socket read the
 * same count twice while the peer waited for the kernel), or the peer wrote everything.
 */
async function settled(socket: Socket, peer: { written(): number; blocked(): boolean }) {
  let last = -1;
  await waitFor(() => {
    if (peer.written() >= TOTAL) return true;
    const now = socket.bytesRead;
    const still = peer.blocked() && now === last;
    last = now;
    return still;
  }, { description: "the peer to be held back or done", timeoutMs: 20_000, intervalMs: 100 });
}

Deno.test("a paused TLS socket takes no more from the kernel, and gets every byte once resumed", async () => {
  await using peer = await writer();
  const socket = connect(peer.port);
  let received = 0;
  let paused = false;
  socket.on("data", (data: Uint8Array) => {
    received += data.length;
    if (!paused && received >= MiB) {
      paused = true;
      pauseSocket(socket);
    }
  });
  socket.once("secureConnect", () => socket.write("go"));
  try {
    await waitFor(() => paused, { description: "the first MiB" });
    await settled(socket, peer);
    assert(socket.bytesRead < BOUND, `the paused socket read ${socket.bytesRead} bytes`);
    assert(peer.written() < TOTAL, "the peer wrote everything to a paused reader");
    resumeSocket(socket);
    await waitFor(() => received === TOTAL, { description: "every byte", timeoutMs: 20_000 });
  } finally {
    socket.destroy();
  }
});

Deno.test("an upstream answer nobody reads holds the upstream back (Http1Pool)", async () => {
  await using peer = await writer(
    `HTTP/1.1 200 OK\r\ncontent-length: ${TOTAL}\r\ncontent-type: text/plain\r\n\r\n`,
  );
  let socket: Socket | undefined;
  const pool = new Http1Pool(() => socket = connect(peer.port));
  const response = await pool.send({
    method: "GET",
    head: encodeRequestHead("GET", "/big", "test", {}),
  });
  try {
    assertEquals(response.statusCode, 200);
    await settled(socket!, peer);
    assert(socket!.bytesRead < BOUND, `the pool read ${socket!.bytesRead} bytes nobody asked for`);
    let length = 0;
    for await (const chunk of response) length += (chunk as Uint8Array).length;
    assertEquals(length, TOTAL);
  } finally {
    pool.close();
  }
});

Deno.test("a request body the handler does not read holds the client back (Http1 server)", async () => {
  pki ??= await createTestPki();
  let request: Http1ServerRequest | undefined;
  const server = await listenHttp1({
    hostname: "127.0.0.1",
    port: 0,
    tls: { cert: pki.server.certificatePem, key: pki.server.privateKeyPem },
  }, {
    request: (req) => request = req,
    upgrade: (_req, socket) => socket.destroy(),
  });
  const client = connect(server.port);
  client.on("error", () => {});
  let written = 0;
  let blocked = false;
  const chunk = Buffer.alloc(64 * 1024, 120);
  const pump = () => {
    blocked = false;
    while (written < TOTAL) {
      written += chunk.length;
      if (!client.write(chunk)) {
        blocked = true;
        return void client.once("drain", pump);
      }
    }
  };
  client.once("secureConnect", () => {
    client.write(`PUT /upload HTTP/1.1\r\nhost: a\r\ncontent-length: ${TOTAL}\r\n\r\n`);
    pump();
  });
  try {
    await waitFor(() => request, { description: "the request" });
    await settled(request!.socket, { written: () => written, blocked: () => blocked });
    assert(request!.socket.bytesRead < BOUND, `the server read ${request!.socket.bytesRead} bytes`);
    let length = 0;
    for await (const part of request!) length += part.length;
    assertEquals(length, TOTAL);
  } finally {
    client.destroy();
    await server.close();
  }
});
