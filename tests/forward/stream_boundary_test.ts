import { assertEquals } from "../_utils/assert.ts";
import { streamBoundary } from "../../src/forward/mod.ts";

const bytes = (...parts: Array<string | number[]>) =>
  new Uint8Array(
    parts.flatMap((p) => typeof p === "string" ? [...new TextEncoder().encode(p)] : p),
  );

Deno.test("streamBoundary() for JSON watches and logs: a message ends with its newline", () => {
  const cases: Array<[string[], Array<number | undefined>, boolean]> = [
    // chunks, what push() returns for each, at a boundary after the last
    [['{"type":"ADDED"}\n'], [0], true],
    [['{"type":', '"ADDED"}\n{"ty', 'pe":"MODIFIED"}\n'], [0, 9, 16], true],
    [['{"type":"ADDED"}\n{"ty'], [0], false],
    [["line one\nline two\n", ""], [0, 0], true],
    [["partial", "", " line\nnext"], [0, undefined, 6], false],
  ];
  for (const [chunks, expected, atEnd] of cases) {
    const boundary = streamBoundary("application/json");
    const got = chunks.map((chunk) => boundary.push(bytes(chunk)));
    assertEquals(got, expected, JSON.stringify(chunks));
    assertEquals(boundary.atBoundary(), atEnd, JSON.stringify(chunks));
  }
  assertEquals(streamBoundary(undefined).atBoundary(), true, "nothing sent yet");
});

Deno.test("streamBoundary() for protobuf watches follows the 4-byte length prefixes", () => {
  const type = "application/vnd.kubernetes.protobuf;stream=watch";
  const frame = (
    length: number,
  ) => [0, 0, (length >> 8) & 0xff, length & 0xff, ...new Array(length).fill(7)];
  const cases: Array<[number[][], Array<number | undefined>, boolean]> = [
    [[frame(3)], [0], true],
    [[frame(3).slice(0, 2), frame(3).slice(2)], [0, 5], true],
    [[[...frame(2), ...frame(300).slice(0, 10)], frame(300).slice(10)], [0, 294], true],
    [[frame(1).slice(0, 4)], [0], false],
    [[[...frame(0), ...frame(1)]], [0], true],
    [[frame(600).slice(0, 100), frame(600).slice(100, 200)], [0, undefined], false],
  ];
  for (const [chunks, expected, atEnd] of cases) {
    const boundary = streamBoundary(type);
    const got = chunks.map((chunk) => boundary.push(new Uint8Array(chunk)));
    assertEquals(got, expected, JSON.stringify(chunks.map((c) => c.length)));
    assertEquals(boundary.atBoundary(), atEnd);
  }
});
