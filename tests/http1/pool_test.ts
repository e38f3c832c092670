import { Buffer } from "node:buffer";
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import { assertEquals, assertRejects, assertThrows } from "../_utils/assert.ts";
import { encodeRequestHead, Http1Pool, ResponseTimeoutError } from "../../src/http1/http1_pool.ts";
import { waitFor } from "../../src/common/mod.ts";
import type { Http1Response } from "../../src/http1/http1_connection.ts";

/** A node:http server on loopback; `handle` answers; counts the connections it accepted. */
async function server(handle: http.RequestListener) {
  const server = http.createServer({ keepAliveTimeout: 60_000 }, handle);
  let connections = 0;
  server.on("connection", () => connections++);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    pool: new Http1Pool(() => net.connect({ host: "127.0.0.1", port })),
    port,
    connections: () => connections,
    server,
    async [Symbol.asyncDispose]() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

const get = (path: string, headers: Record<string, string> = {}) => ({
  method: "GET",
  head: encodeRequestHead("GET", path, "test", headers),
});

async function text(response: Http1Response): Promise<string> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of response) chunks.push(chunk);
  return Buffer.concat(chunks).toString();
}

Deno.test("requests reuse one kept-alive connection; headers and bodies arrive as sent", async () => {
  await using s = await server((req, res) => {
    res.setHeader("Warning", ['299 - "one"', '299 - "two"']);
    res.end(`${req.method} ${req.url} ${req.headers["x-test"]}`);
  });
  for (let i = 0; i < 3; i++) {
    const response = await s.pool.send(get(`/n/${i}`, { "x-test": "yes" }));
    assertEquals(response.statusCode, 200);
    assertEquals(response.headers["warning"] as unknown, ['299 - "one"', '299 - "two"']);
    assertEquals(await text(response), `GET /n/${i} yes`);
  }
  assertEquals(s.connections(), 1);
  s.pool.close();
});

Deno.test("after a body that filled the reader's buffer, the next answer still flows", async () => {
  // One read brings more than the stream's 16 KiB buffer: the socket is paused for the reader.
  const big = "x".repeat(64 * 1024);
  await using s = await server((req, res) => res.end(req.url === "/big" ? big : "small"));
  assertEquals((await text(await s.pool.send(get("/big")))).length, big.length);
  const next = await s.pool.send(get("/small"), { signal: AbortSignal.timeout(2_000) });
  assertEquals(await text(next), "small");
  assertEquals(s.connections(), 1);
  s.pool.close();
});

Deno.test("a large body read slowly arrives whole", async () => {
  const big = "x".repeat(4 * 1024 * 1024);
  await using s = await server((_req, res) => res.end(big));
  const response = await s.pool.send(get("/big"));
  let size = 0;
  for await (const chunk of response) {
    size += chunk.length;
    await new Promise((resolve) => setTimeout(resolve, 0)); // a reader slower than loopback
  }
  assertEquals(size, big.length);
  s.pool.close();
});

Deno.test("an idle connection the server closed is replaced without failing the request", async () => {
  await using s = await server((_req, res) => res.end("ok"));
  assertEquals(await text(await s.pool.send(get("/a"))), "ok");
  s.server.closeIdleConnections();
  assertEquals(await text(await s.pool.send(get("/b"))), "ok");
  assertEquals(s.connections(), 2);
  s.pool.close();
});

Deno.test("aborting ends a streaming answer and its connection", async () => {
  await using s = await server((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.write('{"type":"ADDED"}\n'); // a watch that never ends
  });
  const abort = new AbortController();
  const response = await s.pool.send(get("/watch"), { signal: abort.signal });
  const reader = response[Symbol.asyncIterator]();
  assertEquals(Buffer.from((await reader.next()).value).toString(), '{"type":"ADDED"}\n');
  abort.abort(new Error("the client went away"));
  await assertRejects(() => reader.next(), Error, "the client went away");
  s.pool.close();
});

Deno.test("aborting after the reader stopped reading closes the connection quietly", async () => {
  let closed = false;
  await using s = await server((req, res) => {
    req.socket.once("close", () => closed = true);
    res.writeHead(200, { "content-type": "application/json" });
    res.write('{"type":"ADDED"}\n');
  });
  const abort = new AbortController();
  const response = await s.pool.send(get("/watch"), { signal: abort.signal });
  // A reader that stops without destroying the answer (the agent's, when the hub went away).
  await new Promise((resolve) => response.once("data", resolve));
  response.pause();
  abort.abort(new Error("the hub went away"));
  await waitFor(() => closed, { description: "the upstream connection closed" });
  s.pool.close();
});

Deno.test("an answer cut before its end fails the body, a refused connection fails the request", async () => {
  await using s = await server((req, res) => {
    res.writeHead(200, { "content-length": "100" });
    res.write("only part");
    setTimeout(() => req.socket.destroy(), 10);
  });
  const response = await s.pool.send(get("/cut"));
  await assertRejects(() => text(response), Error, "closed before the end of the response body");
  s.pool.close();
  const closed = net.createServer();
  await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  const refused = new Http1Pool(() => net.connect({ host: "127.0.0.1", port }));
  await assertRejects(() => refused.send(get("/")), Error, "ECONNREFUSED");
});

Deno.test("beyond the connection limit requests wait their turn, within their deadline", async () => {
  const held: (() => void)[] = [];
  await using s = await server((req, res) => {
    if (req.url === "/hold") held.push(() => res.end("held"));
    else res.end("quick");
  });
  const pool = new Http1Pool(() => net.connect({ host: "127.0.0.1", port: s.port }), 2);
  const holding = [pool.send(get("/hold")), pool.send(get("/hold"))];
  await waitFor(() => held.length === 2, { description: "two requests held" });
  // Both connections are busy: a third request waits and gives up at its deadline.
  await assertRejects(
    () => pool.send(get("/quick"), { timeoutMs: 300 }),
    ResponseTimeoutError,
    "no response within 0.3 s",
  );
  const queued = pool.send(get("/quick"), { timeoutMs: 5_000 });
  held.shift()!();
  assertEquals(await text(await holding[0]!), "held");
  assertEquals(await text(await queued), "quick");
  held.shift()!();
  assertEquals(await text(await holding[1]!), "held");
  assertEquals(s.connections(), 2);
  pool.close();
});

Deno.test("request heads carry header bytes as received (UTF-8 read as latin1 is not doubled)", () => {
  // A client sent "é" as UTF-8 (C3 A9); the head reader made it two latin1 chars.
  const value = Buffer.from([0xc3, 0xa9]).toString("latin1");
  const head = encodeRequestHead("GET", "/", "h", { "x-name": value });
  const line = Buffer.from(head).toString("latin1").split("\r\n")[2]!;
  assertEquals([...Buffer.from(line, "latin1").subarray("x-name: ".length)], [0xc3, 0xa9]);
});

Deno.test("request heads refuse names and values that would break the framing", () => {
  assertThrows(() => encodeRequestHead("GET", "/", "h", { "x-a": "1\r\nx-b: 2" }), Error, "x-a");
  assertThrows(() => encodeRequestHead("GET", "/", "h", { "bad name": "1" }), Error, "bad name");
  assertThrows(() => encodeRequestHead("GET", "/a b", "h", {}), Error, "invalid request line");
  assertEquals(
    new TextDecoder().decode(encodeRequestHead("GET", "/x", "h:1", { host: "y", a: ["1", "2"] })),
    "GET /x HTTP/1.1\r\nhost: h:1\r\na: 1\r\na: 2\r\n\r\n",
  );
});
