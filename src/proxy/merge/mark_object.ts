/**
 * One JSON object marked with the cluster it came from, without parsing it (pure): a single pass
 * over its bytes inserts the source annotation into its metadata and notes its kind, name,
 * namespace and resourceVersion. Everything else, down to the byte, stays as the cluster sent
 * it (UTF-8, escapes, number spellings). Merged lists mark their items with it, merged watches
 * the objects of their events.
 */

// Module-local on purpose: V8 reads exported bindings through a cell on every use, which slowed
// the byte loops below measurably (docs/benchmarks.md). Other modules destructure PUNCTUATION into their own.
const QUOTE = 34, BACKSLASH = 92, OPEN_OBJECT = 123, CLOSE_OBJECT = 125;
const OPEN_ARRAY = 91, CLOSE_ARRAY = 93, COLON = 58, COMMA = 44;
/** JSON punctuation, as bytes (destructure it into module-local constants). */
export const PUNCTUATION = {
  QUOTE,
  BACKSLASH,
  OPEN_OBJECT,
  CLOSE_OBJECT,
  OPEN_ARRAY,
  CLOSE_ARRAY,
  COLON,
  COMMA,
} as const;

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const KEYS = {
  kind: encoder.encode("kind"),
  metadata: encoder.encode("metadata"),
  annotations: encoder.encode("annotations"),
  name: encoder.encode("name"),
  namespace: encoder.encode("namespace"),
  resourceVersion: encoder.encode("resourceVersion"),
};
/** A comma, as bytes. */
export const COMMA_BYTES = encoder.encode(",");

/**
 * The byte scanners the list and watch splicers share (destructure them into module-local
 * constants, as PUNCTUATION): whether a byte is JSON whitespace, the next non-space index,
 * whether a range spells a key, the index of a string's closing quote.
 */
export const SCAN = { isSpace, nextNonSpace, isKey, closingQuote } as const;

/** The bytes inserted into objects of one cluster. */
export interface Marks {
  /** `"mca.k8s.io/cluster":"<cluster>"` */
  entry: Uint8Array;
  /** `"annotations":{<entry>}` */
  withAnnotations: Uint8Array;
}

/** The marks for a cluster's objects. */
export function marksFor(cluster: string): Marks {
  const entry = `"mca.k8s.io/cluster":${JSON.stringify(cluster)}`;
  return {
    entry: encoder.encode(entry),
    withAnnotations: encoder.encode(`"annotations":{${entry}}`),
  };
}

/** A marked object: its bytes with the mark inserted (in pieces), what it is, and where it ends. */
export interface MarkedObject {
  pieces: Uint8Array[];
  /** namespace/name, or name. */
  name: string;
  kind: string;
  resourceVersion: string;
  /** The index just past the object's closing brace. */
  end: number;
}

function isSpace(byte: number): boolean {
  return byte === 32 || byte === 10 || byte === 13 || byte === 9;
}

function nextNonSpace(bytes: Uint8Array, from: number): number {
  let i = from;
  while (i < bytes.length && isSpace(bytes[i]!)) i++;
  return i;
}

/** True when bytes[start, end) spell `key`. */
function isKey(bytes: Uint8Array, start: number, end: number, key: Uint8Array): boolean {
  if (end - start !== key.length) return false;
  for (let j = 0; j < key.length; j++) if (bytes[start + j] !== key[j]) return false;
  return true;
}

/**
 * The index of the quote closing the string that starts at `from` (escapes honoured), or the
 * length when the string does not end in these bytes. Most strings in a list are short keys:
 * those are walked here, longer ones found with the native search.
 */
function closingQuote(bytes: Uint8Array, from: number): number {
  const stop = Math.min(bytes.length, from + 48);
  for (let i = from; i < stop; i++) {
    const byte = bytes[i]!;
    if (byte === QUOTE) return i;
    if (byte === BACKSLASH) return escapedClosingQuote(bytes, from);
  }
  return escapedClosingQuote(bytes, stop);
}

function escapedClosingQuote(bytes: Uint8Array, from: number): number {
  let at = bytes.indexOf(QUOTE, from);
  while (at > 0) {
    let backslashes = 0;
    while (bytes[at - 1 - backslashes] === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return at;
    at = bytes.indexOf(QUOTE, at + 1);
  }
  return bytes.length;
}

// What the last key at depth 1 or 2 named (numbers: this loop runs over every byte of a list).
const OTHER = 0, METADATA = 1, ANNOTATIONS = 2, NAME = 3, NAMESPACE = 4, VERSION = 5, KIND = 6;

/**
 * The object starting at `start` (its `{`), marked; undefined when it does not end in these
 * bytes. Depth 1 is the object, 2 its metadata, 3 the annotations. Its kind and resourceVersion
 * are decoded only when `details` is set (watch events need them, list items do not).
 */
export function markObject(
  bytes: Uint8Array,
  start: number,
  marks: Marks,
  details = false,
): MarkedObject | undefined {
  const pieces = new Pieces(bytes, start);
  let depth = 0, key = OTHER;
  let inMetadata = false, metadataHasKeys = false, metadataHasAnnotations = false;
  // Where the noted values start (after their quote), by key: few live variables in the loop.
  const noted = [-1, -1, -1, -1, -1, -1, -1];
  for (let i = start; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (byte === QUOTE) {
      const from = i + 1;
      i = closingQuote(bytes, from);
      const after = nextNonSpace(bytes, i + 1);
      if (after >= bytes.length) return undefined;
      if (bytes[after] === COLON) {
        if (depth === 1) key = objectKey(bytes, from, i, details);
        else if (depth === 2 && inMetadata) {
          metadataHasKeys = true;
          key = metadataKey(bytes, from, i, details);
        } else key = OTHER;
      } else if (
        key !== OTHER &&
        (depth === 2 ? inMetadata && key !== ANNOTATIONS : depth === 1 && key === KIND)
      ) {
        // A string value whose key is one of ours: note where it is.
        noted[key] = from;
      }
    } else if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) {
      depth++;
      if (depth === 2 && byte === OPEN_OBJECT && key === METADATA) inMetadata = true;
      else if (depth === 3 && byte === OPEN_OBJECT && key === ANNOTATIONS && inMetadata) {
        const next = nextNonSpace(bytes, i + 1);
        if (next >= bytes.length) return undefined;
        metadataHasAnnotations = true;
        pieces.insert(i + 1, marks.entry, ...(bytes[next] === CLOSE_OBJECT ? [] : [COMMA_BYTES]));
      }
      key = OTHER;
    } else if (byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) {
      if (depth === 2 && inMetadata) {
        if (!metadataHasAnnotations) {
          pieces.insert(i, ...(metadataHasKeys ? [COMMA_BYTES] : []), marks.withAnnotations);
        }
        inMetadata = false;
      }
      depth--;
      if (depth === 0) {
        return markedObject(bytes, { pieces: pieces.upTo(i + 1), noted, end: i + 1, details });
      }
    }
  }
  return undefined;
}

/** An object's bytes with insertions, as pieces: the bytes between insertions are not copied. */
class Pieces {
  #pieces: Uint8Array[] = [];
  constructor(private readonly bytes: Uint8Array, private copiedTo: number) {}

  /** Inserts `parts` before `bytes[at]`. */
  insert(at: number, ...parts: Uint8Array[]): void {
    this.#pieces.push(this.bytes.subarray(this.copiedTo, at), ...parts);
    this.copiedTo = at;
  }

  /** The pieces, the object's bytes up to `end` included. */
  upTo(end: number): Uint8Array[] {
    this.#pieces.push(this.bytes.subarray(this.copiedTo, end));
    return this.#pieces;
  }
}

/** What a key of the object itself names: its metadata, its kind (with details), or other. */
function objectKey(bytes: Uint8Array, from: number, end: number, details: boolean): number {
  if (isKey(bytes, from, end, KEYS.metadata)) return METADATA;
  return details && isKey(bytes, from, end, KEYS.kind) ? KIND : OTHER;
}

/** What a key of the object's metadata names. */
function metadataKey(bytes: Uint8Array, from: number, end: number, details: boolean): number {
  if (isKey(bytes, from, end, KEYS.name)) return NAME;
  if (isKey(bytes, from, end, KEYS.namespace)) return NAMESPACE;
  if (isKey(bytes, from, end, KEYS.annotations)) return ANNOTATIONS;
  return details && isKey(bytes, from, end, KEYS.resourceVersion) ? VERSION : OTHER;
}

/** The marked object, with the values noted while scanning it decoded. */
function markedObject(
  bytes: Uint8Array,
  { pieces, noted, end, details }: {
    pieces: Uint8Array[];
    noted: number[];
    end: number;
    details: boolean;
  },
): MarkedObject {
  const name = text(bytes, noted[NAME]!);
  const namespace = text(bytes, noted[NAMESPACE]!);
  return {
    pieces,
    name: namespace ? `${namespace}/${name}` : name,
    kind: details ? text(bytes, noted[KIND]!) : "",
    resourceVersion: details ? text(bytes, noted[VERSION]!) : "",
    end,
  };
}

/** The JSON string whose first character is at `from` (after its quote), or "" when none (-1). */
function text(bytes: Uint8Array, from: number): string {
  if (from < 0) return "";
  return JSON.parse(decoder.decode(bytes.subarray(from - 1, closingQuote(bytes, from) + 1)));
}
