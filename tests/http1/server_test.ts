import { Buffer } from "node:buffer";
import tls from "node:tls";
import net from "node:net";
import { assert, assertEquals } from "../_utils/assert.ts";
import { createTestPki, type TestPki } from "../_utils/test_pki.ts";
import { waitFor } from "../../src/common/mod.ts";
import { type Http1Handlers, listenHttp1 } from "../../src/http1/http1_server.ts";
import { statusRefusalBody } from "../../src/forward/mod.ts";
import type { Http1ServerRequest } from "../../src/http1/server_request.ts";
import type { Http1ServerResponse } from "../../src/http1/server_response.ts";

let pki: TestPki | undefined;

/** A server with `handlers` and a raw TLS client that collects everything it receives. */
async function serve(handlers: Partial<Http1Handlers>) {
  pki ??= await createTestPki();
  const server = await listenHttp1({
    hostname: "127.0.0.1",
    port: 0,
    tls: { cert: pki.server.certificatePem, key: pki.server.privateKeyPem },
  }, {
    request: handlers.request ?? ((_req, res) => res.end("default")),
    upgrade: handlers.upgrade ?? ((_req, socket) => socket.destroy()),
    ...(handlers.refusalBody ? { refusalBody: handlers.refusalBody } : {}),
  });
  const connect = async () => {
    const socket = tls.connect({
      host: "127.0.0.1",
      port: server.port,
      ca: pki!.ca.certificatePem,
    });
    await new Promise((resolve) => socket.once("secureConnect", resolve));
    let received = "";
    let closed = false;
    socket.on("data", (data: Buffer) => received += data.toString("latin1"));
    socket.on("close", () => closed = true);
    socket.on("error", () => {});
    return {
      socket,
      send: (text: string) => socket.write(text),
      received: () => received,
      closed: () => closed,
      until: (test: (text: string) => boolean, description: string) =>
        waitFor(() => test(received), { description, timeoutMs: 5_000 }),
    };
  };
  return { server, connect, [Symbol.asyncDispose]: () => server.close() };
}

const count = (text: string, part: string) => text.split(part).length - 1;

async function bodyOf(req: Http1ServerRequest): Promise<string> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString();
}

Deno.test("one connection carries many exchanges; framing follows what the handler knows", async () => {
  await using s = await serve({
    async request(req, res) {
      const body = await bodyOf(req);
      if (req.url === "/stream") {
        res.writeHead(200, { "content-type": "text/plain" });
        res.write("a");
        res.write("bc");
        res.end();
      } else if (req.url === "/empty") {
        res.writeHead(204, "Gone Quiet", {});
        res.end();
      } else res.end(`${req.method} ${req.url} ${req.headers["x-two"]} [${body}]`);
    },
  });
  const client = await s.connect();
  client.send(
    "POST /echo HTTP/1.1\r\nHost: a\r\nX-Two: 1\r\nX-Two: 2\r\nContent-Length: 4\r\n\r\nbody",
  );
  await client.until((t) => t.includes("[body]"), "first answer");
  assert(client.received().includes("content-length: 22\r\n"), client.received());
  assert(client.received().includes("POST /echo 1, 2 [body]"));
  client.send(
    "PUT /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
  );
  await client.until((t) => t.includes("[abc]"), "chunked upload");
  client.send("GET /stream HTTP/1.1\r\nHost: a\r\n\r\n");
  await client.until((t) => t.endsWith("1\r\na\r\n2\r\nbc\r\n0\r\n\r\n"), "chunked answer");
  assert(client.received().includes("transfer-encoding: chunked"));
  client.send("HEAD /echo HTTP/1.1\r\nHost: a\r\n\r\n");
  client.send("GET /empty HTTP/1.1\r\nHost: a\r\n\r\n");
  await client.until((t) => t.includes("204 Gone Quiet"), "HEAD then 204");
  // HEAD announces the length of the body it does not send.
  assert(client.received().includes("content-length: 23\r\n\r\nHTTP/1.1 204"), client.received());
  assertEquals(client.closed(), false);
  client.socket.destroy();
});

Deno.test("pipelined requests are answered in order, each after the one before", async () => {
  const order: string[] = [];
  await using s = await serve({
    async request(req, res) {
      order.push(`start ${req.url}`);
      // The first answer takes longer than the second would.
      if (req.url === "/slow") await new Promise((resolve) => setTimeout(resolve, 50));
      order.push(`end ${req.url}`);
      res.end(req.url);
    },
  });
  const client = await s.connect();
  client.send("GET /slow HTTP/1.1\r\nHost: a\r\n\r\nGET /fast HTTP/1.1\r\nHost: a\r\n\r\n");
  await client.until((t) => count(t, "HTTP/1.1 200") === 2, "two answers");
  assert(client.received().indexOf("/slow") < client.received().indexOf("/fast"));
  assertEquals(order, ["start /slow", "end /slow", "start /fast", "end /fast"]);
  client.socket.destroy();
});

Deno.test("a malformed request gets a 400 with the caller's body (a Status) and the connection closes", async () => {
  let called = false;
  await using s = await serve({ request: () => called = true, refusalBody: statusRefusalBody });
  const client = await s.connect();
  client.send(
    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
  );
  await client.until(() => client.closed(), "closed");
  assert(client.received().startsWith("HTTP/1.1 400 Bad Request\r\n"), client.received());
  assert(client.received().includes('"kind":"Status"'));
  assertEquals(called, false);
});

Deno.test("without a refusal body the server refuses in plain text", async () => {
  await using s = await serve({});
  const client = await s.connect();
  client.send("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
  await client.until(() => client.closed(), "closed");
  assert(client.received().startsWith("HTTP/1.1 400 Bad Request\r\n"), client.received());
  assert(client.received().includes("content-type: text/plain"), client.received());
});

Deno.test("an answer given before the body was read closes the connection (no desync)", async () => {
  await using s = await serve({
    request(req, res) {
      req.resume();
      res.writeHead(413, { "content-type": "text/plain" });
      res.end("too large");
    },
  });
  const client = await s.connect();
  client.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\nGET /smuggled");
  await client.until(() => client.closed(), "closed");
  assertEquals(count(client.received(), "HTTP/1.1"), 1);
});

Deno.test("a client that leaves mid-stream closes the response unfinished", async () => {
  let response: Http1ServerResponse | undefined;
  let closedUnfinished: boolean | undefined;
  await using s = await serve({
    request(_req, res) {
      response = res;
      res.writeHead(200, { "content-type": "application/json" });
      res.flushHeaders();
      res.write('{"type":"ADDED"}\n');
      res.once("close", () => closedUnfinished = !res.writableFinished);
    },
  });
  const client = await s.connect();
  client.send("GET /watch HTTP/1.1\r\nHost: a\r\n\r\n");
  await client.until((t) => t.includes("ADDED"), "first event");
  client.socket.destroy();
  await waitFor(() => closedUnfinished !== undefined, { description: "close" });
  assertEquals(closedUnfinished, true);
  assertEquals(response?.destroyed, true);
});

Deno.test("an upgrade hands over the socket with the bytes after the head", async () => {
  await using s = await serve({
    upgrade(req, socket, head) {
      socket.write(
        `HTTP/1.1 101 Switching Protocols\r\nupgrade: ${req.headers.upgrade}\r\n\r\n` +
          `head=${new TextDecoder().decode(head)};`,
      );
      socket.on("data", (data: Uint8Array) => socket.write(data));
    },
  });
  const client = await s.connect();
  client.send(
    "GET /exec HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nhi",
  );
  await client.until((t) => t.includes("head=hi;"), "upgrade");
  client.send("echo");
  await client.until((t) => t.endsWith("echo"), "echo");
  client.socket.destroy();
});

Deno.test("HTTP/1.0 without keep-alive: a streamed body ends with the connection", async () => {
  await using s = await serve({
    request(_req, res) {
      res.writeHead(200, {});
      res.write("part");
      res.end();
    },
  });
  const client = await s.connect();
  client.send("GET / HTTP/1.0\r\n\r\n");
  await client.until(() => client.closed(), "closed");
  assert(client.received().includes("connection: close\r\n\r\npart"), client.received());
  assert(!client.received().includes("transfer-encoding"));
});

Deno.test("Expect: 100-continue gets its interim answer before the body is sent", async () => {
  await using s = await serve({
    async request(req, res) {
      res.end(await bodyOf(req));
    },
  });
  const client = await s.connect();
  client.send("PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n");
  await client.until((t) => t.startsWith("HTTP/1.1 100 Continue\r\n\r\n"), "100 Continue");
  client.send("ok");
  await client.until((t) => t.endsWith("\r\n\r\nok"), "answer");
  client.socket.destroy();
});

Deno.test("shutdown() closes idle connections at once, lets an exchange in flight finish with Connection: close, then refuses new ones", async () => {
  let answer: ((text: string) => void) | undefined;
  await using s = await serve({
    request(_req, res) {
      answer = (text) => res.end(text);
    },
  });
  const idle = await s.connect();
  const busy = await s.connect();
  busy.send("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n");
  await waitFor(() => answer !== undefined, { description: "the slow request to arrive" });
  const shutdown = s.server.shutdown(5_000);
  await idle.until(() => idle.closed(), "the idle connection to close");
  assert(!busy.closed(), "the busy connection stays while its answer is pending");
  answer!("late answer");
  await busy.until((t) => t.includes("late answer"), "the answer in flight");
  assert(busy.received().includes("connection: close\r\n"), busy.received());
  await busy.until(() => busy.closed(), "the busy connection to close after its answer");
  assertEquals(await shutdown, 0, "nothing had to be cut");
  const refused = tls.connect({
    host: "127.0.0.1",
    port: s.server.port,
    ca: pki!.ca.certificatePem,
  });
  const error = await new Promise<Error>((resolve) => refused.once("error", resolve));
  assert(/ECONNREFUSED|refused/i.test(error.message), error.message);
});

Deno.test("askToClose(): idle connections stay, each later answer says Connection: close and ends its connection, new connections are served", async () => {
  await using s = await serve({});
  const kept = await s.connect();
  kept.send("GET /1 HTTP/1.1\r\nHost: a\r\n\r\n");
  await kept.until((t) => t.endsWith("default"), "the first answer");
  assert(!kept.received().includes("connection: close"), kept.received());
  s.server.askToClose();
  assert(!kept.closed(), "an idle connection is not cut");
  kept.send("GET /2 HTTP/1.1\r\nHost: a\r\n\r\n");
  await kept.until((t) => count(t, "default") === 2, "the second answer");
  assert(kept.received().includes("connection: close\r\n"), kept.received());
  await kept.until(() => kept.closed(), "the connection to end after that answer");
  const fresh = await s.connect();
  fresh.send("GET /3 HTTP/1.1\r\nHost: a\r\n\r\n");
  await fresh.until((t) => t.endsWith("default"), "a new connection's answer");
  assert(fresh.received().includes("connection: close\r\n"), fresh.received());
  await fresh.until(() => fresh.closed(), "the new connection to end too");
});

Deno.test("shutdown() cuts what is still open after its grace period, upgraded connections included", async () => {
  await using s = await serve({
    request() {
      // Never answers.
    },
    upgrade(_req, socket) {
      socket.write(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
      );
    },
  });
  const stuck = await s.connect();
  stuck.send("GET /never HTTP/1.1\r\nHost: a\r\n\r\n");
  const upgraded = await s.connect();
  upgraded.send("GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
  await upgraded.until((t) => t.includes("101 Switching"), "the upgrade");
  const started = Date.now();
  assertEquals(await s.server.shutdown(300), 2, "both connections were cut");
  assert(Date.now() - started >= 250, "after the grace period");
  await stuck.until(() => stuck.closed() && upgraded.closed(), "both to be closed");
});

Deno.test("destroy() after a complete answer leaves the answer and the connection alone", async () => {
  await using s = await serve({
    request(req, res) {
      res.writeHead(200, { "content-type": "text/plain" });
      res.write("streamed");
      res.end();
      res.destroy();
      req.resume();
    },
  });
  const client = await s.connect();
  client.send("GET /a HTTP/1.1\r\nHost: a\r\n\r\n");
  await client.until((t) => t.includes("streamed\r\n0\r\n\r\n"), "the whole chunked answer");
  client.send("GET /b HTTP/1.1\r\nHost: a\r\n\r\n");
  await client.until((t) => count(t, "0\r\n\r\n") === 2, "a second answer on the same connection");
  assert(!client.closed());
});

Deno.test("a TCP connection that never finishes its TLS handshake is closed at the handshake timeout", async () => {
  pki ??= await createTestPki();
  const server = await listenHttp1({
    hostname: "127.0.0.1",
    port: 0,
    tls: { cert: pki.server.certificatePem, key: pki.server.privateKeyPem, handshakeTimeout: 300 },
  }, { request: (_req, res) => res.end("x"), upgrade: (_req, socket) => socket.destroy() });
  // One that says nothing, and one that starts a TLS record and stalls (a slow loris).
  const sockets = [net.connect(server.port, "127.0.0.1"), net.connect(server.port, "127.0.0.1")];
  try {
    const closed = sockets.map(() => false);
    sockets.forEach((socket, i) => {
      socket.on("close", () => closed[i] = true);
      socket.on("error", () => {});
    });
    sockets[1]!.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]));
    await waitFor(() => closed.every(Boolean), {
      description: "the server to close both connections",
      timeoutMs: 5_000,
    });
  } finally {
    // The server's close waits for connections it never saw complete a handshake.
    for (const socket of sockets) socket.destroy();
    await server.close();
  }
});
