import { assert, assertEquals, assertThrows } from "../_utils/assert.ts";
import {
  MAX_REQUEST_HEAD_BYTES,
  RequestError,
  type RequestEvent,
  RequestParser,
} from "../../src/http1/request_parser.ts";
import { headersFromRaw, headersObject } from "../../src/http1/_message_head.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
/** One byte per char: a byte above 0x7f goes as sent, not UTF-8 encoded. */
const latin1 = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));
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
    // HTTP/1.0 has no transfer codings: a front end may have framed this body by its length.
    ["POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400],
    ["POST / HTTP/1.0\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400],
    ["GET / HTTP/1.1\r\n\r\n", 400],
    ["GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400],
    ["GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", 400],
    ["GET / HTTP/2.0\r\nHost: a\r\n\r\n", 400],
    ["GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", 400],
    ["GET / HTTP/1.1\r\nHo st: a\r\n\r\n", 400],
    ["POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400],
    [`GET / HTTP/1.1\r\nX: ${"a".repeat(MAX_REQUEST_HEAD_BYTES)}`, 431],
    // Methods are case-sensitive; kube-apiserver answers 405 to any it does not serve.
    ["get / HTTP/1.1\r\nHost: a\r\n\r\n", 405],
    ["OPTIONS / HTTP/1.1\r\nHost: a\r\n\r\n", 405],
    ["BREW / HTTP/1.1\r\nHost: a\r\n\r\n", 405],
    ["G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400],
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

Deno.test("only origin-form targets in visible ASCII, without a way out of a path prefix, pass", () => {
  const refused = [
    // Other forms (RFC 9112 §3.2): absolute, authority, asterisk, and no leading slash.
    "https://evil.example/api/v1/secrets",
    "evil.example:443",
    "*",
    "-2/api/v1/secrets",
    // Dot segments, raw or percent-encoded in any case, in any segment.
    "/../../../v3/users",
    "/api/v1/..",
    "/api/./v1",
    "/api/%2e%2e/v1",
    "/api/%2E%2e/v1",
    "/api/.%2E/v1?x=1",
    "/api/%2e/v1",
    // Encoded slashes and backslashes (a URL parser turns "\\" into "/").
    "/api/%2F..%2Fv3",
    "/api/%2f/v1",
    "/api\\..\\..\\v3",
    "/api/%5c../v1",
    // Malformed percent-encoding, and bytes outside visible ASCII (a latin1 non-breaking space).
    "/api/%zz",
    "/api/%2",
    "/api/v1/namespaces/a\xa0b",
    "/api/v1/\x7f",
  ];
  for (const target of refused) {
    assertEquals(
      status(() => new RequestParser().push(latin1(`GET ${target} HTTP/1.1\r\nHost: a\r\n\r\n`))),
      400,
      target,
    );
  }
  const accepted = [
    "/api/v1/namespaces/a/configmaps?labelSelector=app%3Dx%2Cb!%3Dc&limit=5",
    "/apis/apps/v1/namespaces/a.b/deployments/x.y",
    "/api/v1/namespaces/a/pods/p/log?container=..&previous=true",
    "/version",
    "/",
    "/api/v1/namespaces/%61",
  ];
  for (const target of accepted) {
    const events = new RequestParser().push(bytes(`GET ${target} HTTP/1.1\r\nHost: a\r\n\r\n`));
    assertEquals(events[0]?.type === "head" && events[0].head.target, target);
  }
});

Deno.test("header values with control characters are refused, without quoting them back", () => {
  for (const bad of ["a\rb", "a\nb", "a\0b", "a\x01b", "a\x7fb", "Bearer se\rcret"]) {
    let message = "";
    const code = status(() => {
      try {
        new RequestParser().push(bytes(`GET / HTTP/1.1\r\nHost: a\r\nX-Test: ${bad}\r\n\r\n`));
      } catch (error) {
        message = (error as Error).message;
        throw error;
      }
    });
    assertEquals(code, 400, JSON.stringify(bad));
    assert(message !== "" && !message.includes("cret"), message);
  }
  // Tabs, spaces and obs-text (bytes 0x80-0xff, UTF-8 read as latin1) are field content.
  const events = new RequestParser().push(
    latin1("GET / HTTP/1.1\r\nHost: a\r\nX-Test: a\tb c \xe9\r\n\r\n"),
  );
  assertEquals(events[0]?.type === "head" && events[0].head.rawHeaders[3], "a\tb c \xe9");
  // A malformed name is shown, its value (an Authorization, say) is not.
  try {
    new RequestParser().push(
      bytes("GET / HTTP/1.1\r\nHost: a\r\nAuthorization : Bearer s3cr3t\r\n\r\n"),
    );
    throw new Error("not refused");
  } catch (error) {
    assert(error instanceof RequestError);
    assert(!error.message.includes("s3cr3t"), error.message);
  }
});

/** The best of a few runs, after one to warm up: less noise than a single timing. */
function bestTimeMs(fn: () => void): number {
  fn();
  let best = Infinity;
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    fn();
    best = Math.min(best, performance.now() - started);
  }
  return best;
}

/**
 * Ten times the input must cost about ten times as much (linear), never about a hundred times
 * (quadratic): the bound sits between the two, so the noise of a shared machine does not
 * decide it and a quadratic regression does.
 */
function assertLinear(run: (size: number) => void, small: number, what: string): void {
  const ratio = bestTimeMs(() => run(10 * small)) / Math.max(bestTimeMs(() => run(small)), 0.05);
  assert(ratio < 35, `${what}: 10x the input cost ${ratio.toFixed(0)}x the time`);
}

Deno.test("thousands of repeated headers cost time linear in their number", () => {
  assertLinear(
    (count) => {
      const raw = ["Host", "a"];
      for (let i = 0; i < count; i++) raw.push("X-Many", "v", "Set-Cookie", "c");
      assertEquals((headersObject(raw)["x-many"] as string).length, 3 * count - 2);
      assertEquals(headersFromRaw(raw)["set-cookie"]!.length, count);
    },
    5_000,
    "repeated headers",
  );
  // The parser itself, at the most a head may hold (about 10,000 such lines).
  const head = "GET / HTTP/1.1\r\nHost: a\r\n" + "X-Many: v\r\nSet-Cookie: c\r\n".repeat(10_000);
  const events = new RequestParser().push(bytes(head + "\r\n"));
  assertEquals(events[0]?.type === "head" && events[0].head.rawHeaders.length, 40_002);
});

Deno.test("a head that arrives a few bytes at a time costs time linear in its size", () => {
  assertLinear(
    (size) => {
      const head = latin1(`GET / HTTP/1.1\r\nHost: a\r\nX-Long: ${"v".repeat(size)}\r\n\r\n`);
      const parser = new RequestParser();
      const events: RequestEvent[] = [];
      for (let i = 0; i < head.length; i += 8) events.push(...parser.push(head.subarray(i, i + 8)));
      assertEquals(events.at(-1)?.type, "end");
    },
    12_000,
    "a trickled head",
  );
});
