import { assertEquals } from "../../_utils/assert.ts";
import { LineSplitter } from "../../../src/proxy/merge/line_splitter.ts";

const encoder = new TextEncoder();

/** Feeds `bytes` cut at `cuts` and returns the lines, decoded only at the end. */
function split(bytes: Uint8Array, cuts: number[]): string[] {
  const splitter = new LineSplitter();
  const lines: Uint8Array[] = [];
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    lines.push(...splitter.push(bytes.subarray(from, cut)));
    from = cut;
  }
  const rest = splitter.end();
  if (rest) lines.push(rest);
  return lines.map((line) => new TextDecoder("utf-8", { fatal: true }).decode(line));
}

// Characters of 2, 3 and 4 bytes in UTF-8, and one of 1 for the edges.
const TEXT = 'a{"v":"é€😀"}\n{"w":"ü"}\n\nz';
const LINES = ['a{"v":"é€😀"}', '{"w":"ü"}', "z"];

Deno.test("LineSplitter keeps every byte whatever the chunk boundaries: one cut anywhere", () => {
  const bytes = encoder.encode(TEXT);
  for (let cut = 0; cut <= bytes.length; cut++) {
    assertEquals(split(bytes, [cut]), LINES, `cut at byte ${cut}`);
  }
});

Deno.test("LineSplitter keeps every byte: two cuts anywhere, and one byte per chunk", () => {
  const bytes = encoder.encode(TEXT);
  for (let first = 0; first <= bytes.length; first++) {
    for (let second = first; second <= bytes.length; second++) {
      assertEquals(split(bytes, [first, second]), LINES, `cuts at ${first} and ${second}`);
    }
  }
  assertEquals(split(bytes, Array.from({ length: bytes.length }, (_, i) => i)), LINES);
});

Deno.test("LineSplitter joins a long line from many chunks and copies what it keeps", () => {
  const long = "€".repeat(200_000); // 600 kB, each character 3 bytes
  const bytes = encoder.encode(`${long}\n`);
  const splitter = new LineSplitter();
  const lines: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += 16_384) {
    const chunk = bytes.slice(i, i + 16_384);
    lines.push(...splitter.push(chunk));
    chunk.fill(0); // the producer reuses its buffer
  }
  assertEquals(lines.length, 1);
  assertEquals(new TextDecoder().decode(lines[0]), long);
  assertEquals(splitter.end(), undefined);
});
