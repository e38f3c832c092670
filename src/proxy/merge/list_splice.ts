/**
 * A LIST answer marked for a merged read without parsing it into objects (pure): one pass over
 * the bytes finds the items, adds the source annotation to each item's metadata, and keeps
 * each item's namespace/name. Parsing and re-serializing megabytes of JSON cost more than the
 * upstream requests themselves; this pass copies bytes instead.
 */
import type { KubeObject } from "./merge_objects.ts";

/** One cluster's list, its items marked. */
export interface SplicedList {
  /** The list without its items (kind, apiVersion, metadata). */
  envelope: KubeObject;
  /** The items, JSON, separated by commas, without brackets (empty: no items). */
  pieces: Uint8Array[];
  /** namespace/name (or name) of each item. */
  names: string[];
}

const QUOTE = 34, BACKSLASH = 92, OPEN_OBJECT = 123, CLOSE_OBJECT = 125;
const OPEN_ARRAY = 91, CLOSE_ARRAY = 93, COLON = 58;
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const KEYS = {
  items: encoder.encode("items"),
  metadata: encoder.encode("metadata"),
  annotations: encoder.encode("annotations"),
  name: encoder.encode("name"),
  namespace: encoder.encode("namespace"),
};
type Key = keyof typeof KEYS | "other";

function isSpace(byte: number): boolean {
  return byte === 32 || byte === 10 || byte === 13 || byte === 9;
}

function nextNonSpace(bytes: Uint8Array, from: number): number {
  let i = from;
  while (i < bytes.length && isSpace(bytes[i]!)) i++;
  return i;
}

function sameBytes(bytes: Uint8Array, start: number, key: Uint8Array): boolean {
  for (let j = 0; j < key.length; j++) if (bytes[start + j] !== key[j]) return false;
  return true;
}

/** The keys that matter at this depth (1: the list, 3: an item, 4: its metadata). */
function keyOf(bytes: Uint8Array, start: number, end: number, depth: number): Key {
  const length = end - start;
  if (depth === 1) return length === 5 && sameBytes(bytes, start, KEYS.items) ? "items" : "other";
  if (depth === 3) {
    return length === 8 && sameBytes(bytes, start, KEYS.metadata) ? "metadata" : "other";
  }
  if (depth !== 4) return "other";
  if (length === 4 && sameBytes(bytes, start, KEYS.name)) return "name";
  if (length === 9 && sameBytes(bytes, start, KEYS.namespace)) return "namespace";
  if (length === 11 && sameBytes(bytes, start, KEYS.annotations)) return "annotations";
  return "other";
}

/** The index of the quote closing the string that starts at `from` (native search, escapes honoured). */
function closingQuote(bytes: Uint8Array, from: number): number {
  let at = bytes.indexOf(QUOTE, from);
  while (at > 0) {
    let backslashes = 0;
    while (bytes[at - 1 - backslashes] === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return at;
    at = bytes.indexOf(QUOTE, at + 1);
  }
  return bytes.length;
}

/** Marks every item of a JSON list with `"mca.k8s.io/cluster": cluster`; throws on a non-list. */
export function spliceList(body: Uint8Array, cluster: string): SplicedList {
  const entry = encoder.encode(`"mca.k8s.io/cluster":${JSON.stringify(cluster)}`);
  const comma = encoder.encode(",");
  const withAnnotations = encoder.encode(`"annotations":{${decoder.decode(entry)}}`);
  const pieces: Uint8Array[] = [];
  const names: string[] = [];
  let depth = 0;
  let key: Key = "other";
  let itemsStart = -1;
  let itemsEnd = -1;
  let copiedTo = -1; // bytes of the items copied into pieces up to here
  let metadataDepth = -1;
  let metadataHasKeys = false;
  let metadataHasAnnotations = false;
  let name = "";
  let namespace = "";
  const insert = (at: number, ...parts: Uint8Array[]) => {
    pieces.push(body.subarray(copiedTo, at), ...parts);
    copiedTo = at;
  };
  for (let i = 0; i < body.length; i++) {
    const byte = body[i]!;
    if (byte === QUOTE) {
      const start = i + 1;
      i = closingQuote(body, start);
      const after = nextNonSpace(body, i + 1);
      if (body[after] === COLON) {
        key = keyOf(body, start, i, depth);
        if (depth === metadataDepth) metadataHasKeys = true;
      } else if (depth === metadataDepth && (key === "name" || key === "namespace")) {
        const value = JSON.parse(decoder.decode(body.subarray(start - 1, i + 1))) as string;
        if (key === "name") name = value;
        else namespace = value;
      }
      continue;
    }
    if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) {
      depth++;
      if (depth === 2 && byte === OPEN_ARRAY && key === "items" && itemsStart < 0) {
        itemsStart = i + 1;
        copiedTo = itemsStart;
      } else if (itemsStart >= 0 && itemsEnd < 0) {
        if (depth === 3 && byte === OPEN_OBJECT) name = namespace = "";
        if (depth === 4 && byte === OPEN_OBJECT && key === "metadata") {
          metadataDepth = 4;
          metadataHasKeys = metadataHasAnnotations = false;
        } else if (
          depth === 5 && byte === OPEN_OBJECT && key === "annotations" && metadataDepth === 4
        ) {
          metadataHasAnnotations = true;
          const empty = body[nextNonSpace(body, i + 1)] === CLOSE_OBJECT;
          insert(i + 1, entry, ...(empty ? [] : [comma]));
        }
      }
      key = "other";
      continue;
    }
    if (byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) {
      if (depth === metadataDepth && byte === CLOSE_OBJECT) {
        if (!metadataHasAnnotations) {
          insert(i, ...(metadataHasKeys ? [comma] : []), withAnnotations);
        }
        metadataDepth = -1;
      }
      if (depth === 3 && itemsStart >= 0 && itemsEnd < 0 && byte === CLOSE_OBJECT) {
        names.push(namespace ? `${namespace}/${name}` : name);
      }
      if (depth === 2 && byte === CLOSE_ARRAY && itemsStart >= 0 && itemsEnd < 0) {
        itemsEnd = i;
        pieces.push(body.subarray(copiedTo, itemsEnd));
      }
      depth--;
    }
  }
  if (itemsStart < 0 || itemsEnd < 0) throw new Error("the answer is not a list with items");
  // The envelope: the list with an empty items array, small enough to parse.
  const rest = new Uint8Array(itemsStart + (body.length - itemsEnd));
  rest.set(body.subarray(0, itemsStart));
  rest.set(body.subarray(itemsEnd), itemsStart);
  const envelope = JSON.parse(decoder.decode(rest)) as KubeObject;
  return { envelope, pieces: names.length > 0 ? pieces : [], names };
}

/** The merged list's bytes: the first envelope with the given metadata, every cluster's items. */
export function joinSplicedLists(
  lists: SplicedList[],
  metadata: Record<string, unknown>,
): Uint8Array {
  const head = JSON.stringify({ ...lists[0]?.envelope, metadata, items: [] });
  const at = head.lastIndexOf('"items":[]') + '"items":['.length;
  const parts: Uint8Array[] = [encoder.encode(head.slice(0, at))];
  let first = true;
  for (const list of lists) {
    if (list.pieces.length === 0) continue;
    if (!first) parts.push(encoder.encode(","));
    parts.push(...list.pieces);
    first = false;
  }
  parts.push(encoder.encode(head.slice(at)));
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
