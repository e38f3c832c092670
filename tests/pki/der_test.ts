import { toHex } from "../../src/bytes.ts";
import { assertEquals, assertThrows } from "../_utils/assert.ts";
import {
  derBitString,
  derBoolean,
  derDirectoryString,
  derExplicit,
  derImplicit,
  derInteger,
  derLength,
  derNamedBits,
  derNull,
  derObjectIdentifier,
  derOctetString,
  derSequence,
  derSet,
  derTime,
} from "../../src/pki/_der.ts";

const hex = toHex;
const bytes = (text: string) => Uint8Array.from(text.match(/../g) ?? [], (b) => parseInt(b, 16));

Deno.test("derLength() uses the short form below 128 and the long form from 128", () => {
  for (
    const [length, expected] of [
      [0, "00"],
      [127, "7f"],
      [128, "8180"],
      [255, "81ff"],
      [256, "820100"],
      [65_536, "83010000"],
    ] as const
  ) assertEquals(hex(derLength(length)), expected, `length ${length}`);
  assertEquals(hex(derOctetString(new Uint8Array(128)).subarray(0, 3)), "048180");
  assertEquals(derSequence([new Uint8Array(256)]).length, 4 + 256);
});

Deno.test("derInteger() writes positive two's complement with minimal bytes", () => {
  for (
    const [input, expected] of [
      ["", "020100"],
      ["00", "020100"],
      ["7f", "02017f"],
      ["80", "02020080"],
      ["ff", "020200ff"],
      ["0000ff", "020200ff"],
      ["000001", "020101"],
      ["0100", "02020100"],
    ] as const
  ) assertEquals(hex(derInteger(bytes(input))), expected, `integer ${input}`);
});

Deno.test("derObjectIdentifier() encodes arcs in base 128", () => {
  assertEquals(hex(derObjectIdentifier("1.2.840.10045.4.3.2")), "06082a8648ce3d040302");
  assertEquals(hex(derObjectIdentifier("2.5.29.19")), "0603551d13");
  assertEquals(hex(derObjectIdentifier("1.2.840.113549.1.1.11")), "06092a864886f70d01010b");
  // Arcs above 2^32 and the joint-iso-itu-t root with a large second arc.
  assertEquals(hex(derObjectIdentifier("2.999.4294967296")), "060788379080808000");
  assertEquals(hex(derObjectIdentifier("2.999")), "06028837");
  assertThrows(() => derObjectIdentifier("1"), Error, `Invalid object identifier: "1"`);
  assertThrows(() => derObjectIdentifier("1.40"), Error, "Invalid object identifier");
  assertThrows(() => derObjectIdentifier("1.2.x"), Error, "Invalid object identifier");
});

Deno.test("derTime() writes UTCTime until 2049 and GeneralizedTime from 2050, with seconds", () => {
  const text = (encoded: Uint8Array) => new TextDecoder().decode(encoded.subarray(2));
  const last = derTime(new Date("2049-12-31T23:59:59.999Z"));
  assertEquals([last[0], text(last)], [0x17, "491231235959Z"]);
  const next = derTime(new Date("2050-01-01T00:00:00Z"));
  assertEquals([next[0], text(next)], [0x18, "20500101000000Z"]);
  const early = derTime(new Date("1950-01-01T00:00:05Z"));
  assertEquals([early[0], text(early)], [0x17, "500101000005Z"]);
  const older = derTime(new Date("1949-12-31T23:59:59Z"));
  assertEquals([older[0], text(older)], [0x18, "19491231235959Z"]);
  assertThrows(() => derTime(new Date(NaN)), Error, "Invalid certificate time");
});

Deno.test("derNamedBits() keeps only the bits up to the last one set and counts the rest unused", () => {
  // digitalSignature (0): one byte 0x80 with 7 unused bits.
  assertEquals(hex(derNamedBits([0])), "03020780");
  // digitalSignature, keyEncipherment (2): 0xa0, 5 unused.
  assertEquals(hex(derNamedBits([0, 2])), "030205a0");
  // keyCertSign (5), cRLSign (6), digitalSignature (0): 0x86, 1 unused.
  assertEquals(hex(derNamedBits([5, 6, 0])), "03020186");
  // decipherOnly (8) needs a second byte.
  assertEquals(hex(derNamedBits([0, 8])), "0303078080");
  assertEquals(hex(derNamedBits([])), "030100");
});

Deno.test("the small types have their DER bytes", () => {
  assertEquals(hex(derBoolean(true)), "0101ff");
  assertEquals(hex(derBoolean(false)), "010100");
  assertEquals(hex(derNull()), "0500");
  assertEquals(hex(derBitString(bytes("abcd"))), "030300abcd");
  assertEquals(hex(derOctetString(bytes("01"))), "040101");
  assertEquals(hex(derSequence([])), "3000");
  assertEquals(hex(derSet([derNull()])), "31020500");
  assertEquals(hex(derExplicit(3, derNull())), "a3020500");
  assertEquals(hex(derExplicit(0, derInteger(bytes("02")))), "a003020102");
  assertEquals(hex(derImplicit(2, new TextEncoder().encode("a.b"))), "8203612e62");
  assertEquals(hex(derImplicit(7, bytes("0a000001"))), "87040a000001");
});

Deno.test("derDirectoryString() picks PrintableString when it can, UTF8String otherwise", () => {
  assertEquals(hex(derDirectoryString("mca-ca")), "13066d63612d6361");
  assertEquals(hex(derDirectoryString("a&b")), "0c03612662");
  assertEquals(hex(derDirectoryString("é")), "0c02c3a9");
  assertEquals(hex(derDirectoryString("system:masters")), "130e73797374656d3a6d617374657273");
});
