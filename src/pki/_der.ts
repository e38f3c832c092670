/**
 * DER encoding (ITU-T X.690) of the few ASN.1 types an X.509 certificate is made of. Written
 * here rather than taken from @peculiar/x509, whose module graph made the sidecar's resident
 * memory grow by several MiB to issue two certificates (docs/benchmarks.md).
 */
import { concatBytes } from "../bytes.ts";

/** Universal tags used by certificates. */
export const TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  objectIdentifier: 0x06,
  utf8String: 0x0c,
  printableString: 0x13,
  ia5String: 0x16,
  utcTime: 0x17,
  generalizedTime: 0x18,
  sequence: 0x30,
  set: 0x31,
} as const;

/** A length: one byte below 128, else 0x80 + the count of big-endian length bytes (X.690 §8.1.3). */
export function derLength(length: number): Uint8Array<ArrayBuffer> {
  if (length < 0x80) return new Uint8Array([length]);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return new Uint8Array([0x80 | bytes.length, ...bytes]);
}

/** One tag-length-value; tags are single bytes (numbers below 31 suffice for certificates). */
export function derTlv(tag: number, content: Uint8Array): Uint8Array<ArrayBuffer> {
  return concatBytes([new Uint8Array([tag]), derLength(content.length), content]);
}

/** SEQUENCE of already encoded items. */
export function derSequence(items: Uint8Array[]): Uint8Array<ArrayBuffer> {
  return derTlv(TAG.sequence, concatBytes(items));
}

/** SET of already encoded items; DER sorts a SET OF, so callers pass one item or sorted items. */
export function derSet(items: Uint8Array[]): Uint8Array<ArrayBuffer> {
  return derTlv(TAG.set, concatBytes(items));
}

/**
 * INTEGER from an unsigned big-endian magnitude: redundant leading zeros are dropped and a zero
 * byte is put back when the high bit is set, since INTEGER is two's complement (X.690 §8.3).
 */
export function derInteger(unsigned: Uint8Array): Uint8Array<ArrayBuffer> {
  let start = 0;
  while (start < unsigned.length - 1 && unsigned[start] === 0) start++;
  const magnitude = unsigned.length === 0 ? new Uint8Array([0]) : unsigned.subarray(start);
  const padded = (magnitude[0] ?? 0) & 0x80
    ? concatBytes([new Uint8Array([0]), magnitude])
    : magnitude;
  return derTlv(TAG.integer, padded);
}

/** OBJECT IDENTIFIER from dotted form ("1.2.840.10045.4.3.2"), base 128 per arc (X.690 §8.19). */
export function derObjectIdentifier(dotted: string): Uint8Array<ArrayBuffer> {
  const arcs = dotted.split(".").map((arc) => {
    if (!/^\d+$/.test(arc)) throw new Error(`Invalid object identifier: "${dotted}"`);
    return BigInt(arc);
  });
  const [first, second, ...rest] = arcs;
  if (first === undefined || second === undefined || first > 2n || (first < 2n && second > 39n)) {
    throw new Error(`Invalid object identifier: "${dotted}"`);
  }
  const bytes: number[] = [];
  for (const arc of [first * 40n + second, ...rest]) {
    const groups = [Number(arc & 0x7fn)];
    for (let high = arc >> 7n; high > 0n; high >>= 7n) groups.unshift(Number(high & 0x7fn) | 0x80);
    bytes.push(...groups);
  }
  return derTlv(TAG.objectIdentifier, new Uint8Array(bytes));
}

const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

/**
 * A DirectoryString: PrintableString when every character allows it, UTF8String otherwise, the
 * two choices RFC 5280 §4.1.2.4 lets CAs make.
 */
export function derDirectoryString(text: string): Uint8Array<ArrayBuffer> {
  const bytes = new TextEncoder().encode(text);
  return derTlv(PRINTABLE.test(text) ? TAG.printableString : TAG.utf8String, bytes);
}

/**
 * A certificate time: UTCTime for 1950 to 2049 and GeneralizedTime after, always in UTC with
 * seconds and no fraction (RFC 5280 §4.1.2.5).
 */
export function derTime(date: Date): Uint8Array<ArrayBuffer> {
  const year = date.getUTCFullYear();
  if (!Number.isFinite(year) || year < 0 || year > 9999) {
    throw new Error(`Invalid certificate time: "${date}"`);
  }
  const two = (n: number) => String(n).padStart(2, "0");
  const rest = two(date.getUTCMonth() + 1) + two(date.getUTCDate()) + two(date.getUTCHours()) +
    two(date.getUTCMinutes()) + two(date.getUTCSeconds()) + "Z";
  const utc = year >= 1950 && year < 2050;
  const text = utc ? two(year % 100) + rest : String(year).padStart(4, "0") + rest;
  return derTlv(utc ? TAG.utcTime : TAG.generalizedTime, new TextEncoder().encode(text));
}

/** BIT STRING: a first byte counting the unused bits at the end, then the bits. */
export function derBitString(bytes: Uint8Array, unusedBits = 0): Uint8Array<ArrayBuffer> {
  return derTlv(TAG.bitString, concatBytes([new Uint8Array([unusedBits]), bytes]));
}

/**
 * A named bit list (as KeyUsage) from bit numbers, bit 0 being the first: DER drops trailing
 * zero bits and counts them as unused (X.690 §11.2.2).
 */
export function derNamedBits(bits: number[]): Uint8Array<ArrayBuffer> {
  if (bits.length === 0) return derBitString(new Uint8Array(0));
  const last = Math.max(...bits);
  const bytes = new Uint8Array(Math.floor(last / 8) + 1);
  for (const bit of bits) bytes[bit >> 3]! |= 0x80 >> (bit & 7);
  return derBitString(bytes, 7 - (last & 7));
}

/** OCTET STRING. */
export function derOctetString(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return derTlv(TAG.octetString, bytes);
}

/** BOOLEAN: DER writes TRUE as 0xff. */
export function derBoolean(value: boolean): Uint8Array<ArrayBuffer> {
  return derTlv(TAG.boolean, new Uint8Array([value ? 0xff : 0x00]));
}

/** NULL. */
export function derNull(): Uint8Array<ArrayBuffer> {
  return derTlv(TAG.null, new Uint8Array(0));
}

/** An explicit context tag [n] wrapping one encoded value (constructed, 0xa0 + n). */
export function derExplicit(tagNumber: number, value: Uint8Array): Uint8Array<ArrayBuffer> {
  return derTlv(0xa0 | tagNumber, value);
}

/** An implicit context tag [n] over primitive content (0x80 + n), as GeneralName's choices. */
export function derImplicit(tagNumber: number, content: Uint8Array): Uint8Array<ArrayBuffer> {
  return derTlv(0x80 | tagNumber, content);
}
