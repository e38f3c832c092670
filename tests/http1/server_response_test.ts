/**
 * Answers whose parts come from a party the server does not trust (the hub relays its agents'
 * answers as they give them): nothing in them may write a header, or a second response, that the
 * client would read as the answer to its next request on the same connection.
 */
import { assert, assertEquals, assertThrows } from "../_utils/assert.ts";
import * as http1 from "../../src/http1/mod.ts";
import { servePlainHttp1 } from "../_utils/plain_http1.ts";
import { waitFor } from "../../src/common/mod.ts";
import type { Http1ServerResponse } from "../../src/http1/server_response.ts";

const SPLIT = "HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nevil";

/** What the hostile answer does, and what must be true of the connection after it. */
const CASES: { name: string; answer: (res: Http1ServerResponse) => void; closes: boolean }[] = [
  {
    name: "a reason phrase with CR LF",
    answer: (res) => res.writeHead(200, `OK\r\ncontent-length: 0\r\n\r\n${SPLIT}`).end("ok"),
    closes: false,
  },
  {
    name: "a header value with CR LF",
    answer: (res) => res.writeHead(200, { "x-a": `a\r\n\r\n${SPLIT}` }).end("ok"),
    closes: false,
  },
  {
    name: "a header value with a lone LF",
    answer: (res) => res.writeHead(200, { "x-a": "a\nx-injected: 1" }).end("ok"),
    closes: false,
  },
  {
    name: "a header name that is not a token",
    answer: (res) => res.writeHead(200, { "x-a: b\r\nx-injected": "1" }).end("ok"),
    closes: false,
  },
  {
    name: "an interim status as the final answer",
    answer: (res) => res.writeHead(100).end(),
    closes: false,
  },
  {
    name: "a status outside 100-999",
    answer: (res) => res.writeHead(20000).end("ok"),
    closes: false,
  },
  {
    name: "a Content-Length that is not a number",
    answer: (res) => res.writeHead(200, { "content-length": "2, 50" }).end("ok"),
    closes: false,
  },
  {
    name: "a body longer than its Content-Length",
    answer: (res) => {
      res.writeHead(200, { "content-length": "2" });
      res.write("ok");
      res.end(SPLIT);
    },
    closes: true,
  },
  {
    name: "a body longer than its Content-Length, in one write",
    answer: (res) => res.writeHead(200, { "content-length": "2" }).end(`ok${SPLIT}`),
    closes: true,
  },
  {
    name: "a body shorter than its Content-Length",
    answer: (res) => res.writeHead(200, { "content-length": "40" }).end("ok"),
    closes: true,
  },
  {
    name: "Content-Length and Transfer-Encoding together",
    answer: (res) =>
      res.writeHead(200, { "content-length": "5", "transfer-encoding": "chunked" }).end(
        "0\r\n\r\n",
      ),
    closes: false,
  },
];

for (const { name, answer, closes } of CASES) {
  Deno.test(`Http1ServerResponse: ${name} cannot smuggle a response to the next request`, async () => {
    const server = await servePlainHttp1({
      request(req, res) {
        req.resume();
        if (req.url === "/next") return void res.end("next");
        try {
          answer(res);
        } catch (error) {
          res.writeHead(502, { "content-type": "text/plain" });
          res.end((error as Error).message);
        }
      },
      upgrade: (_req, socket) => socket.destroy(),
    });
    const socket = await server.connect();
    try {
      let received = "";
      let closed = false;
      socket.on("data", (chunk: Buffer) => received += chunk.toString("latin1"));
      socket.on("close", () => closed = true);
      socket.write("GET /hostile HTTP/1.1\r\nHost: a\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n");
      await waitFor(() => closed || received.endsWith("next"), {
        description: "the connection to close or the next answer",
        timeoutMs: 5_000,
      });
      assert(!/evil|^x-injected:/im.test(received), JSON.stringify(received));
      assertEquals(closed, closes, JSON.stringify(received));
      // Every answer on the connection is framed by one Content-Length, never by two framings.
      assert(!/transfer-encoding/i.test(received), JSON.stringify(received));
      const heads = received.match(/HTTP\/1\.1 \d+ /g) ?? [];
      assertEquals(heads.length, closes ? 1 : 2, JSON.stringify(received));
      // The first answer is a final one (an interim one would make "next" its answer), and each
      // Content-Length is one number.
      const first = Number(/^HTTP\/1\.1 (\d+) /.exec(received)?.[1]);
      assert(first >= 200 && first <= 999, JSON.stringify(received));
      assert(!/^content-length: (?!\d+\r$)/im.test(received), JSON.stringify(received));
    } finally {
      socket.destroy();
      await server.close();
    }
  });
}

Deno.test("encodeResponseHead() refuses what would write another header (an agent's upgrade refusal)", () => {
  const { encodeResponseHead } = http1;
  assertThrows(() => encodeResponseHead(403, "No\r\nx-injected: 1", {}), Error, "reason phrase");
  assertThrows(() => encodeResponseHead(403, "", { "x-a": "1\r\nx-injected: 1" }), Error, '"x-a"');
  assertThrows(() => encodeResponseHead(0, "", {}), Error, "status");
  assertEquals(
    encodeResponseHead(403, "", { "x-a": ["1", "2"] }),
    "HTTP/1.1 403 Forbidden\r\nx-a: 1\r\nx-a: 2\r\n\r\n",
  );
});
