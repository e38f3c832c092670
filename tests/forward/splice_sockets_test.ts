/**
 * spliceSockets() joins the two connections of an upgrade (exec, attach, port-forward) in the
 * proxy, the hub and the agent. What the upstream sends just before it closes must still reach
 * the client: an exec's last frames (its status and the WebSocket close) come right before the
 * API server closes, and kubectl, through the proxy to a real kubelet, reported `close 1006
 * (abnormal closure): unexpected EOF` about every other time when they were dropped.
 */
import https from "node:https";
import net from "node:net";
import { Duplex } from "node:stream";
import tls from "node:tls";
import { assertEquals } from "../_utils/assert.ts";
import { createTestPki } from "../_utils/test_pki.ts";
import { spliceSockets } from "../../src/forward/mod.ts";
import { waitFor } from "../../src/common/mod.ts";

const SWITCHING =
  "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
const pki = await createTestPki();
const tlsServer = { key: pki.server.privateKeyPem, cert: pki.server.certificatePem };

/** An upstream that upgrades, writes `size` bytes in two writes and closes at once. */
async function upstreamServer(size: number): Promise<https.Server> {
  const server = https.createServer(tlsServer);
  server.on("upgrade", (_req, socket: net.Socket) => {
    socket.write(SWITCHING);
    socket.write(new Uint8Array(size / 2).fill(1));
    socket.end(new Uint8Array(size / 2).fill(2));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return server;
}

/** A proxy as mca's: it upgrades to the upstream, then splices the two connections. */
async function proxyServer(upstreamPort: number): Promise<https.Server> {
  const server = https.createServer(tlsServer);
  server.on("upgrade", (req, socket: net.Socket, head: Uint8Array) => {
    const out = https.request({
      host: "127.0.0.1",
      port: upstreamPort,
      path: req.url,
      ca: pki.ca.certificatePem,
      headers: { Connection: "Upgrade", Upgrade: "websocket" },
    });
    out.on("upgrade", (_res, upstream: net.Socket, upstreamHead: Uint8Array) => {
      socket.write(SWITCHING);
      if (upstreamHead.length > 0) socket.write(upstreamHead);
      if (head.length > 0) upstream.write(head);
      spliceSockets(socket, upstream);
    });
    out.end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return server;
}

/** Upgrades through the proxy; returns the bytes after the head and whether the end came. */
async function upgradeThrough(port: number): Promise<{ bytes: number; ended: boolean }> {
  const client = tls.connect({ port, host: "127.0.0.1", ca: pki.ca.certificatePem });
  await new Promise((resolve) => client.once("secureConnect", resolve));
  let received = "";
  let ended = false;
  client.setEncoding("latin1");
  client.on("data", (chunk: string) => received += chunk);
  client.once("end", () => ended = true);
  client.on("error", () => {});
  client.write(
    "GET /exec HTTP/1.1\r\nHost: proxy\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
  );
  await waitFor(() => ended, { timeoutMs: 5_000 }).catch(() => {});
  client.destroy();
  return { bytes: received.length - received.indexOf("\r\n\r\n") - 4, ended };
}

for (const size of [64, 64 * 1024]) {
  Deno.test(`spliceSockets() delivers the ${size} bytes the upstream sends right before it closes, and then the end`, async () => {
    const upstream = await upstreamServer(size);
    const proxy = await proxyServer((upstream.address() as net.AddressInfo).port);
    try {
      const port = (proxy.address() as net.AddressInfo).port;
      // The loss depended on timing: several upgrades in a row, each must be complete.
      for (let attempt = 1; attempt <= 5; attempt++) {
        assertEquals(
          await upgradeThrough(port),
          { bytes: size, ended: true },
          `upgrade ${attempt}`,
        );
      }
    } finally {
      proxy.close();
      upstream.close();
    }
  });
}

Deno.test("spliceSockets(): a side that ended and then refuses writes (a reset tunnel stream) does not cut what the other side still has to deliver", async () => {
  const size = 32 * 1024 * 1024;
  // The upstream sends everything and its end, then fails any write, as a yamux stream the
  // agent reset after its FIN does.
  const upstream = new Duplex({
    read() {},
    write(_chunk, _encoding, callback) {
      callback(new Error("yamux: stream 7 was reset by the peer"));
    },
  });
  upstream.on("error", () => {});
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const accepted = new Promise<net.Socket>((resolve) => server.once("connection", resolve));
  const client = net.connect((server.address() as net.AddressInfo).port, "127.0.0.1");
  const proxySide = await accepted;
  proxySide.on("error", () => {});
  spliceSockets(proxySide, upstream);
  client.pause();
  upstream.push(new Uint8Array(size).fill(7));
  upstream.push(null);
  // The client (kubectl answering the close) writes while the proxy still holds its data.
  await waitFor(() => proxySide.writableLength > 0, { timeoutMs: 5_000 });
  client.write("bye");
  await waitFor(() => upstream.destroyed || upstream.writableLength === 0, { timeoutMs: 5_000 });
  let received = 0;
  let ended = false;
  client.on("data", (chunk: Uint8Array) => received += chunk.length);
  client.once("end", () => ended = true);
  client.on("error", () => {});
  client.resume();
  await waitFor(() => ended || client.destroyed, { timeoutMs: 20_000 }).catch(() => {});
  client.destroy();
  server.close();
  assertEquals({ received, ended }, { received: size, ended: true });
});
