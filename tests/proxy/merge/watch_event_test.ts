import { assertEquals, assertThrows } from "../../_utils/assert.ts";
import { markEvent } from "../../../src/proxy/merge/watch_event.ts";
import { marksFor } from "../../../src/proxy/merge/mark_object.ts";
import { concatBytes } from "../../../src/bytes.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const marks = marksFor("east");

Deno.test("markEvent inserts only the source annotation and keeps every other byte", () => {
  // Escapes, a non-ASCII string and a number spelling that a parse and re-serialize would change.
  const object = '{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"a\\u00e9",' +
    '"namespace":"ns","resourceVersion":"42","annotations":{"k":"v"}},' +
    '"data":{"x":"é€😀 \\" }{","n":"1.0e2"}}';
  const line = encoder.encode(`{"type":"MODIFIED","object":${object}}`);
  const event = markEvent(line, marks);
  assertEquals(event.type, "MODIFIED");
  assertEquals(event.object?.kind, "ConfigMap");
  assertEquals(event.object?.resourceVersion, "42");
  assertEquals(event.object?.name, "ns/aé");
  assertEquals(
    decoder.decode(concatBytes(event.pieces)),
    `{"type":"MODIFIED","object":${
      object.replace('"annotations":{', '"annotations":{"mca.k8s.io/cluster":"east",')
    }}`,
  );
});

Deno.test("markEvent reads events whatever their key order and spacing", () => {
  const cases = [
    '{"object":{"metadata":{"resourceVersion":"7"}},"type":"ADDED"}',
    '{ "type" : "DELETED" , "object" : { "metadata" : { } } }',
  ];
  for (const text of cases) {
    const event = markEvent(encoder.encode(text), marks);
    const parsed = JSON.parse(decoder.decode(concatBytes(event.pieces)));
    assertEquals(parsed.object.metadata.annotations, { "mca.k8s.io/cluster": "east" }, text);
  }
});

Deno.test("markEvent leaves BOOKMARK and ERROR events as they are", () => {
  for (
    const text of [
      '{"type":"BOOKMARK","object":{"kind":"ConfigMap","metadata":{"resourceVersion":"9"}}}',
      '{"type":"ERROR","object":{"kind":"Status","code":410}}',
    ]
  ) {
    const line = encoder.encode(text);
    const event = markEvent(line, marks);
    assertEquals(event.pieces, [line]);
    assertEquals(event.object, undefined);
  }
});

Deno.test("markEvent refuses lines that are not watch events", () => {
  for (const text of ["[]", '{"object":{}}', '{"type":"ADDED","object":{"a":', "nonsense"]) {
    assertThrows(() => markEvent(encoder.encode(text), marks), Error, "not a JSON object");
  }
});
