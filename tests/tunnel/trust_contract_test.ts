import { assertEquals, assertRejects, assertThrows } from "../_utils/assert.ts";
import {
  type ChunkReader,
  encodeTrustMessage,
  parseTrustMessage,
  readTrustMessages,
  type TrustMessage,
} from "../../src/tunnel/mod.ts";

/** A reader handing out the given chunks, then the end. */
function chunks(...parts: Uint8Array[]): ChunkReader {
  return {
    read: () =>
      Promise.resolve<ReadableStreamReadResult<Uint8Array>>(
        parts.length > 0 ? { done: false, value: parts.shift()! } : { done: true },
      ),
  };
}

async function readAll(reader: ChunkReader): Promise<TrustMessage[]> {
  const messages: TrustMessage[] = [];
  for await (const message of readTrustMessages(reader)) messages.push(message);
  return messages;
}

const cas: TrustMessage = { type: "hub-cas", cas: ["-----BEGIN CERTIFICATE-----\n…"] };
const held: TrustMessage = { type: "held-pins", pins: ["sha256:00"], persisted: true };

Deno.test("trust messages read back the same, however the stream cuts them", async () => {
  const bytes = new Uint8Array([...encodeTrustMessage(cas), ...encodeTrustMessage(held)]);
  assertEquals(await readAll(chunks(bytes)), [cas, held]);
  // One byte at a time: a message is read only once all of it is there.
  const bytewise = [...bytes].map((byte) => new Uint8Array([byte]));
  assertEquals(await readAll(chunks(...bytewise)), [cas, held]);
});

Deno.test("parseTrustMessage() refuses what is not a message of the contract", () => {
  const bad: unknown[] = [
    { type: "hub-cas", cas: [] },
    { type: "hub-cas", cas: [1] },
    { type: "hub-cas", cas: Array(9).fill("x") },
    { type: "held-pins", pins: ["x"] },
    { type: "held-pins", pins: "x", persisted: true },
    { type: "trust-me", cas: ["x"] },
    null,
  ];
  for (const value of bad) {
    assertThrows(
      () => parseTrustMessage(new TextEncoder().encode(JSON.stringify(value))),
      Error,
      "malformed",
    );
  }
  assertThrows(() => parseTrustMessage(new TextEncoder().encode("{")), Error, "not JSON");
});

Deno.test("readTrustMessages() refuses a message announced over the limit before reading it", async () => {
  const head = new Uint8Array(4);
  new DataView(head.buffer).setUint32(0, 10 * 1024 * 1024);
  await assertRejects(() => readAll(chunks(head)), Error, "over the limit");
});
