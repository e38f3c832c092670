/**
 * Reads DER (ITU-T X.690) just far enough to take a certificate apart: tag-length-value
 * elements, object identifiers and times. Every read is bounds-checked and throws on malformed
 * input, since certificates come from files and Secrets.
 */

/** One element: its tag, its content, and its whole encoding (tag and length included). */
export interface DerElement {
  tag: number;
  content: Uint8Array<ArrayBuffer>;
  encoded: Uint8Array<ArrayBuffer>;
}

/** Reads the element that starts at `offset`; `end` is where the next one starts. */
export function readDerElement(
  bytes: Uint8Array<ArrayBuffer>,
  offset = 0,
): { element: DerElement; end: number } {
  const tag = byteAt(bytes, offset);
  if ((tag & 0x1f) === 0x1f) throw malformed("multi-byte tags are not supported");
  let length = byteAt(bytes, offset + 1);
  let start = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    // Four length bytes already exceed any certificate; DER forbids the indefinite form (0x80).
    if (count === 0 || count > 4) throw malformed("unsupported length");
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + byteAt(bytes, start + i);
    start += count;
  }
  const end = start + length;
  if (end > bytes.length) throw malformed("an element runs past the end");
  return {
    element: { tag, content: bytes.subarray(start, end), encoded: bytes.subarray(offset, end) },
    end,
  };
}

/** The elements inside a constructed element's content, in order. */
export function readDerChildren(content: Uint8Array<ArrayBuffer>): DerElement[] {
  const children: DerElement[] = [];
  for (let offset = 0; offset < content.length;) {
    const { element, end } = readDerElement(content, offset);
    children.push(element);
    offset = end;
  }
  return children;
}

/** The single element that fills a byte array (an extension's OCTET STRING, say). */
export function readDerOnly(bytes: Uint8Array<ArrayBuffer>): DerElement {
  const { element, end } = readDerElement(bytes);
  if (end !== bytes.length) throw malformed("trailing bytes after an element");
  return element;
}

/** Checks an element's tag; `what` names it in the error. */
export function expectTag(element: DerElement | undefined, tag: number, what: string): DerElement {
  if (element?.tag !== tag) throw malformed(`expected ${what}`);
  return element;
}

/** An OBJECT IDENTIFIER's content in dotted form. */
export function decodeObjectIdentifier(content: Uint8Array): string {
  const arcs: bigint[] = [];
  let value = 0n;
  for (const byte of content) {
    value = (value << 7n) | BigInt(byte & 0x7f);
    if (!(byte & 0x80)) {
      arcs.push(value);
      value = 0n;
    }
  }
  const [first = 0n, ...rest] = arcs;
  const head = first < 80n ? [first / 40n, first % 40n] : [2n, first - 80n];
  return [...head, ...rest].join(".");
}

/** A UTCTime (0x17) or GeneralizedTime (0x18) in the "Z" forms RFC 5280 §4.1.2.5 allows. */
export function decodeTime(element: DerElement): Date {
  const text = new TextDecoder().decode(element.content);
  const match = element.tag === 0x17
    ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text)
    : element.tag === 0x18
    ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text)
    : null;
  if (!match) throw malformed(`invalid time "${text}"`);
  const [year = 0, month = 1, day = 1, hours = 0, minutes = 0, seconds = 0] = match.slice(1)
    .map(Number);
  // UTCTime's two-digit years mean 1950 to 2049.
  const fullYear = element.tag === 0x17 ? (year < 50 ? 2000 + year : 1900 + year) : year;
  const date = new Date(0);
  date.setUTCFullYear(fullYear, month - 1, day);
  date.setUTCHours(hours, minutes, seconds, 0);
  return date;
}

function byteAt(bytes: Uint8Array, index: number): number {
  const byte = bytes[index];
  if (byte === undefined) throw malformed("the data ends too early");
  return byte;
}

function malformed(detail: string): Error {
  return new Error(`Cannot read certificate: invalid DER: ${detail}`);
}
