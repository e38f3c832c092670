import { assert, assertEquals, assertThrows } from "../_utils/assert.ts";
import {
  MAX_REQUEST_HEAD_BYTES,
  RequestError,
  type RequestEvent,
  RequestParser,
} from "../../src/http1/request_parser.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (chunks: Uint8Array[]) => chunks.map((c) => new TextDecoder().decode(c)).join("");

/** Feeds `input` cut at `cuts`; summarizes each request until the parser waits. */
function parse(input: string, cuts: number[] = []) {
  const parser = new RequestParser();
  const events: RequestEvent[] = [];
  const data = bytes(input);
  let from = 0;
  for (const cut of [...cuts, data.length]) {
    events.push(...parser.push(data.subarray(from, cut)));
    from = cut;
  }
  return { parser, summary: summarize(events) };
}

function summarize(events: RequestEvent[]) {
  return events.map((e) =>
    e.type === "head"
      ? `head ${e.head.method} ${e.head.target} ${e.head.version} keepAlive=${e.head.keepAlive}`
      : e.type === "body"
      ? `body ${new TextDecoder().decode(e.chunk)}`
      : e.type === "end"
      ? "end"
      : `upgrade ${e.head.target} rest=${new TextDecoder().decode(e.rest)}`
  );
}

function status(fn: () => unknown): number {
  try {
    fn();
  } catch (error) {
    if (error instanceof RequestError) return error.status;
    throw error;
  }
  throw new Error("no RequestError");
}

Deno.test("a GET: head (headers as sent) and end; HTTP/1.1 keeps alive, 1.0 only when asked", () => {
  const parser = new RequestParser();
  const events = parser.push(bytes("GET /api?x=1 HTTP/1.1\r\nHost: a\r\nX-Two: 2\r\n\r\n"));
  assertEquals(events.length, 2);
  const head = events[0]!.type === "head" ? events[0]!.head : undefined;
  assertEquals(head?.rawHeaders, ["Host", "a", "X-Two", "2"]);
  assertEquals(head?.keepAlive, true);
  assertEquals(events[1]!.type, "end");
  assertEquals(parse("GET / HTTP/1.0\r\n\r\n").summary, ["head GET / 1.0 keepAlive=false", "end"]);
  assertEquals(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").summary, [
    "head GET / 1.0 keepAlive=true",
    "end",
  ]);
  assertEquals(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").summary, [
    "head GET / 1.1 keepAlive=false",
    "end",
  ]);
});

Deno.test("bodies by Content-Length and chunked read the same wherever the bytes are cut", () => {
  const byLength = "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world";
  const chunked = "POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" +
    "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n";
  for (const input of [byLength, chunked]) {
    for (let cut = 1; cut < input.length; cut++) {
      const parser = new RequestParser();
      const events = [
        ...parser.push(bytes(input.slice(0, cut))),
        ...parser.push(bytes(input.slice(cut))),
      ];
      const body = text(events.flatMap((e) => e.type === "body" ? [e.chunk] : []));
      assertEquals(body, "hello world", `cut at ${cut}`);
      assertEquals(events.at(-1)?.type, "end", `cut at ${cut}`);
    }
  }
});

Deno.test("a pipelined request waits until the current one is answered", () => {
  const { parser, summary } = parse(
    "GET /one HTTP/1.1\r\nHost: a\r\n\r\nGET /two HTTP/1.1\r\nHost: a\r\n\r\n",
  );
  assertEquals(summary, ["head GET /one 1.1 keepAlive=true", "end"]);
  assert(parser.buffered > 0);
  assertEquals(summarize(parser.next()), ["head GET /two 1.1 keepAlive=true", "end"]);
  assertEquals(summarize(parser.next()), []);
});

Deno.test("an upgrade ends the parsing; the bytes after its head belong to the new protocol", () => {
  const { parser, summary } = parse(
    "GET /exec HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x00",
  );
  assertEquals(summary, ["upgrade /exec rest=\x81\x00"]);
  assertEquals(parser.push(bytes("more")), []);
  // Without "Connection: upgrade" it is an ordinary request.
  assertEquals(parse("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n").summary, [
    "head GET / 1.1 keepAlive=true",
    "end",
  ]);
});

Deno.test("Expect: 100-continue is reported", () => {
  const events = new RequestParser().push(
    bytes("PUT /p HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n"),
  );
  assertEquals(events[0]?.type === "head" && events[0].head.expectsContinue, true);
});

Deno.test("malformed requests are refused with the status to answer", () => {
  const cases: [string, number][] = [
    // Both framings at once is how requests are smuggled.
    ["POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400],
    ["POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 4\r\n\r\n", 400],
    ["POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400],
    ["POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 400],
    ["POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501],
    ["GET / HTTP/1.1\r\n\r\n", 400],
    ["GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400],
    ["GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", 400],
    ["GET / HTTP/2.0\r\nHost: a\r\n\r\n", 400],
    ["GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", 400],
    ["GET / HTTP/1.1\r\nHo st: a\r\n\r\n", 400],
    ["POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400],
    [`GET / HTTP/1.1\r\nX: ${"a".repeat(MAX_REQUEST_HEAD_BYTES)}`, 431],
  ];
  for (const [input, expected] of cases) {
    assertEquals(
      status(() => new RequestParser().push(bytes(input))),
      expected,
      input.slice(0, 60),
    );
  }
  assertThrows(() => new RequestParser().push(bytes("\0\r\n\r\n")), RequestError);
});
