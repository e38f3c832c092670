import { Readable } from "node:stream";
import { assertEquals } from "../_utils/assert.ts";
import { coalescedChunks } from "../../src/tunnel/mod.ts";

const bytes = (value: number, length: number) => new Uint8Array(length).fill(value);
const sizes = (batch: Uint8Array[] | undefined) => batch?.map((chunk) => chunk.length);

Deno.test("coalescedChunks() batches what arrived meanwhile, pausing the source at the limit", async () => {
  const source = new Readable({ read() {} });
  for (let i = 1; i <= 5; i++) source.push(bytes(i, 4096));
  source.push(null);
  const batches: Uint8Array[][] = [];
  for await (const batch of coalescedChunks(source, 3 * 4096)) batches.push(batch);
  assertEquals(batches.map(sizes), [[4096, 4096, 4096], [4096, 4096]]);
  // The chunks themselves are handed on, in order, not copies.
  assertEquals(batches.flat().map((chunk) => chunk[0]), [1, 2, 3, 4, 5]);
});

Deno.test("coalescedChunks() hands over a lone chunk at once instead of waiting for more", async () => {
  const source = new Readable({ read() {} });
  const batches = coalescedChunks(source);
  source.push(bytes(1, 10));
  // The stream stays open: a watch event must leave without the next one.
  assertEquals(sizes((await batches.next()).value), [10]);
  source.push(bytes(2, 20));
  source.push(bytes(3, 30));
  assertEquals(sizes((await batches.next()).value), [20, 30]);
  source.push(null);
  assertEquals((await batches.next()).done, true);
});

Deno.test("coalescedChunks() passes on a stream's error, and a close before its end", async () => {
  const failing = new Readable({ read() {} });
  failing.push(bytes(1, 10));
  const batches = coalescedChunks(failing);
  assertEquals(sizes((await batches.next()).value), [10]);
  failing.destroy(new Error("the member went away"));
  const failure = await batches.next().then(() => "no error", (error: Error) => error.message);
  assertEquals(failure, "the member went away");

  const cut = new Readable({ read() {} });
  const cutBatches = coalescedChunks(cut);
  cut.push(bytes(1, 10));
  assertEquals(sizes((await cutBatches.next()).value), [10]);
  cut.destroy();
  const cutShort = await cutBatches.next().then(() => "no error", (error: Error) => error.message);
  assertEquals(cutShort, "Premature close");
});
