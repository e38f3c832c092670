import { assertEquals, assertThrows } from "../_utils/assert.ts";
import { type ResponseEvent, ResponseParser } from "../../src/http1/response_parser.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

/** Runs a whole exchange through the parser in pieces cut at `cuts`, and summarizes it. */
function parse(method: string, text: string, cuts: number[] = [], closeAtEnd = false) {
  const parser = new ResponseParser(method);
  const events: ResponseEvent[] = [];
  const data = bytes(text);
  let from = 0;
  for (const cut of [...cuts, data.length]) {
    events.push(...parser.push(data.subarray(from, cut)));
    from = cut;
  }
  if (closeAtEnd) events.push(...parser.close());
  const head = events.find((e) => e.type === "head");
  const body = events.filter((e) => e.type === "body").map((e) => new TextDecoder().decode(e.chunk))
    .join("");
  const end = events.find((e) => e.type === "end");
  return {
    status: head?.head.status,
    statusText: head?.head.statusText,
    rawHeaders: head?.head.rawHeaders,
    body,
    reusable: end?.reusable,
    finished: parser.finished,
  };
}

const CHUNKED = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nAudit-Id: a\r\n\r\n" +
  "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\n";

Deno.test("a Content-Length answer: head with names as sent, body, reusable connection", () => {
  const result = parse(
    "GET",
    'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nWarning: 299 - "a"\r\n\r\nhello',
  );
  assertEquals(result, {
    status: 200,
    statusText: "OK",
    rawHeaders: ["Content-Length", "5", "Warning", '299 - "a"'],
    body: "hello",
    reusable: true,
    finished: true,
  });
});

Deno.test("a chunked answer reads the same however the bytes are cut", () => {
  const whole = parse("GET", CHUNKED);
  assertEquals([whole.body, whole.reusable], ["hello, world", true]);
  for (let cut = 1; cut < CHUNKED.length; cut++) {
    assertEquals(parse("GET", CHUNKED, [cut]).body, "hello, world", `cut at ${cut}`);
    assertEquals(parse("GET", CHUNKED, [cut, Math.min(cut + 3, CHUNKED.length)]).finished, true);
  }
});

Deno.test("no body for HEAD, 204 and 304, even with a Content-Length", () => {
  assertEquals(parse("HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n").body, "");
  assertEquals(parse("head", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n").finished, true);
  assertEquals(parse("DELETE", "HTTP/1.1 204 No Content\r\n\r\n").finished, true);
  assertEquals(
    parse("GET", "HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n").finished,
    true,
  );
});

Deno.test("informational answers before the real one are skipped", () => {
  const result = parse(
    "POST",
    "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" +
      "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\n{}",
  );
  assertEquals([result.status, result.body], [201, "{}"]);
});

Deno.test("without framing the body runs until the connection closes, which is then not reusable", () => {
  const open = parse("GET", "HTTP/1.1 200 OK\r\n\r\nstream of bytes");
  assertEquals([open.body, open.finished], ["stream of bytes", false]);
  const closed = parse("GET", "HTTP/1.1 200 OK\r\n\r\nstream of bytes", [], true);
  assertEquals([closed.body, closed.reusable, closed.finished], ["stream of bytes", false, true]);
  // A transfer coding that does not end in chunked is also read until close (RFC 9112 §6.3).
  assertEquals(
    parse("GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzz", [], true).body,
    "zz",
  );
});

Deno.test("Connection: close and HTTP/1.0 make the connection single-use", () => {
  assertEquals(
    parse("GET", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n").reusable,
    false,
  );
  assertEquals(parse("GET", "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").reusable, false);
  assertEquals(
    parse("GET", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n")
      .reusable,
    true,
  );
});

Deno.test("malformed or cut answers fail with a reason", () => {
  const cases: [string, string, string][] = [
    ["GET", "HTTP/2 200\r\n\r\n", "invalid status line"],
    ["GET", "HTTP/1.1 200 OK\r\nno colon\r\n\r\n", "invalid header line"],
    ["GET", "HTTP/1.1 200 OK\r\n folded: x\r\n\r\n", "invalid header line"],
    ["GET", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", "conflicting"],
    ["GET", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "invalid Content-Length"],
    ["GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "invalid chunk size"],
    ["GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n", "longer than"],
    ["GET", "HTTP/1.1 101 Switching Protocols\r\n\r\n", "unexpected 101"],
    ["GET", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nab", "after the end"],
  ];
  for (const [method, text, reason] of cases) {
    assertThrows(() => parse(method, text), Error, reason);
  }
  assertThrows(
    () => parse("GET", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab", [], true),
    Error,
    "closed before the end of the response body",
  );
  assertThrows(() => parse("GET", "HTTP/1.1 200", [], true), Error, "closed before a response");
});
