import { gunzipSync } from "node:zlib";
import { assert, assertEquals } from "../../_utils/assert.ts";
import { acceptsGzip, encodeBody } from "../../../src/proxy/merge/response_encoding.ts";

Deno.test("acceptsGzip reads Accept-Encoding as HTTP does, q=0 refusing", () => {
  assert(acceptsGzip("gzip"));
  assert(acceptsGzip("br, GZIP;q=0.5"));
  assert(acceptsGzip("*"));
  assert(acceptsGzip(["identity", "gzip"]));
  assert(!acceptsGzip(undefined));
  assert(!acceptsGzip("identity"));
  assert(!acceptsGzip("gzip;q=0"));
  assert(!acceptsGzip("x-gzip-ish"));
});

Deno.test("encodeBody gzips large bodies for clients that accept it, and only those", () => {
  const large = new TextEncoder().encode(JSON.stringify({ items: "x".repeat(200_000) }));
  const small = new TextEncoder().encode('{"items":[]}');
  const gzipped = encodeBody(large, "gzip");
  assertEquals(gzipped.encoding, "gzip");
  assert(gzipped.body.length < large.length / 10);
  assertEquals(new Uint8Array(gunzipSync(gzipped.body)), large);
  assertEquals(encodeBody(large, "identity"), { body: large });
  assertEquals(encodeBody(small, "gzip"), { body: small });
});
