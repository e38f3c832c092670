import { Readable } from "node:stream";
import { assertEquals } from "../_utils/assert.ts";
import { coalescedChunks } from "../../src/tunnel/coalesced_chunks.ts";

const bytes = (value: number, length: number) => new Uint8Array(length).fill(value);

Deno.test("coalescedChunks() joins what is already buffered into one chunk, up to the limit", async () => {
  const source = new Readable({ read() {} });
  for (let i = 1; i <= 5; i++) source.push(bytes(i, 4096));
  source.push(null);
  const chunks: Uint8Array[] = [];
  for await (const chunk of coalescedChunks(source, 3 * 4096)) chunks.push(chunk);
  assertEquals(chunks.map((c) => c.length), [3 * 4096, 2 * 4096]);
  // Order and content are kept across the joins.
  assertEquals([...chunks[0]!.subarray(4095, 4097)], [1, 2]);
  assertEquals([...chunks[1]!.subarray(4095, 4097)], [4, 5]);
});

Deno.test("coalescedChunks() hands over a lone chunk at once instead of waiting for more", async () => {
  const source = new Readable({ read() {} });
  const chunks = coalescedChunks(source);
  source.push(bytes(1, 10));
  // The stream stays open: a watch event must leave without the next one.
  const first = await chunks.next();
  assertEquals(first.value?.length, 10);
  source.push(bytes(2, 20));
  source.push(bytes(3, 30));
  assertEquals((await chunks.next()).value?.length, 50);
  source.push(null);
  assertEquals((await chunks.next()).done, true);
});

Deno.test("coalescedChunks() passes on a stream's error", async () => {
  const source = new Readable({ read() {} });
  source.push(bytes(1, 10));
  const chunks = coalescedChunks(source);
  assertEquals((await chunks.next()).value?.length, 10);
  source.destroy(new Error("the member went away"));
  const failure = await chunks.next().then(() => "no error", (error: Error) => error.message);
  assertEquals(failure, "the member went away");
});
