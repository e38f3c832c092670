/**
 * A LIST answer marked for a merged read without parsing it into objects (pure): one pass over
 * the bytes finds the items, adds the source annotation to each item's metadata, and keeps
 * each item's namespace/name. Parsing and re-serializing megabytes of JSON cost more than the
 * upstream requests themselves; this pass copies bytes instead. The answer may arrive in
 * chunks: complete items come out as soon as their last byte is in, so a merged list can be
 * written while the slowest cluster is still answering.
 */
import { concatBytes } from "../../bytes.ts";
import { COMMA_BYTES, markObject, type Marks, marksFor, PUNCTUATION, SCAN } from "./mark_object.ts";
import type { KubeObject } from "./merge_objects.ts";

const { CLOSE_ARRAY, CLOSE_OBJECT, COLON, COMMA, OPEN_ARRAY, OPEN_OBJECT, QUOTE } = PUNCTUATION;
const { closingQuote, isKey, isSpace, nextNonSpace } = SCAN;

/** One cluster's list, its items marked. */
export interface SplicedList {
  /** The list without its items (kind, apiVersion, metadata). */
  envelope: KubeObject;
  /** The items, JSON, separated by commas, without brackets (empty: no items). */
  pieces: Uint8Array[];
  /** namespace/name (or name) of each item. */
  names: string[];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const ITEMS = encoder.encode("items");
const NOT_A_LIST = "the answer is not a list with items";

/** Marks a whole JSON list at once; throws on a non-list. */
export function spliceList(body: Uint8Array, cluster: string): SplicedList {
  const splicer = new ListSplicer(cluster);
  const pieces = splicer.push(body);
  const last = splicer.end();
  return {
    envelope: last.envelope,
    pieces: [
      ...pieces,
      ...(pieces.length > 0 && last.pieces.length > 0 ? [COMMA_BYTES] : []),
      ...last.pieces,
    ],
    names: splicer.names,
  };
}

/**
 * Marks a JSON list that arrives in chunks. `push` returns the items completed so far (marked,
 * comma-separated, or nothing); `end` returns the rest and the list's envelope.
 */
export class ListSplicer {
  /** namespace/name (or name) of each item returned so far. */
  readonly names: string[] = [];
  readonly #marks: Marks;
  #phase: "head" | "items" | "tail" = "head";
  /** Bytes not scanned yet: the head so far, or the items from an item's start. */
  #pending: Uint8Array[] = [];
  #pendingLength = 0;
  /** An unfinished item is scanned again only once this many bytes wait (no quadratic rescans). */
  #retryAt = 0;
  #head: Uint8Array = new Uint8Array();
  readonly #tail: Uint8Array[] = [];

  constructor(cluster: string) {
    this.#marks = marksFor(cluster);
  }

  push(chunk: Uint8Array): Uint8Array[] {
    if (this.#phase === "tail") {
      this.#tail.push(chunk);
      return [];
    }
    this.#pending.push(chunk);
    this.#pendingLength += chunk.length;
    if (this.#pendingLength < this.#retryAt) return [];
    return this.#scan();
  }

  /** The input ended: the last items, and the list without its items. */
  end(): { pieces: Uint8Array[]; envelope: KubeObject } {
    const pieces = this.#phase === "tail" ? [] : this.#scan();
    if (this.#phase !== "tail") throw new Error(NOT_A_LIST);
    const rest = concat([this.#head, ...this.#tail]);
    return { pieces, envelope: JSON.parse(decoder.decode(rest)) as KubeObject };
  }

  #scan(): Uint8Array[] {
    let bytes = concat(this.#pending);
    this.#pending = [];
    this.#pendingLength = 0;
    if (this.#phase === "head") {
      const at = itemsStart(bytes);
      if (at < 0) return this.#keep(bytes, false);
      this.#head = bytes.subarray(0, at);
      bytes = bytes.subarray(at);
      this.#phase = "items";
    }
    const out: Uint8Array[] = [];
    let from = 0;
    for (;;) {
      let i = from;
      while (i < bytes.length && (isSpace(bytes[i]!) || bytes[i] === COMMA)) i++;
      if (i >= bytes.length) break;
      if (bytes[i] === CLOSE_ARRAY) {
        this.#tail.push(bytes.subarray(i));
        this.#phase = "tail";
        return out;
      }
      if (bytes[i] !== OPEN_OBJECT) throw new Error(NOT_A_LIST);
      const item = markObject(bytes, i, this.#marks);
      if (!item) break;
      if (out.length > 0) out.push(COMMA_BYTES);
      out.push(...item.pieces);
      this.names.push(item.name);
      from = item.end;
    }
    return this.#keep(bytes.subarray(from), out.length > 0, out);
  }

  /** Keeps unscanned bytes for the next push; retries after progress, else once they doubled. */
  #keep(bytes: Uint8Array, progressed: boolean, out: Uint8Array[] = []): Uint8Array[] {
    if (bytes.length > 0) {
      this.#pending = [bytes];
      this.#pendingLength = bytes.length;
    }
    this.#retryAt = progressed ? 0 : bytes.length * 2;
    return out;
  }
}

// A whole answer usually arrives as one part: no copy then.
function concat(parts: Uint8Array[]): Uint8Array {
  return parts.length === 1 ? parts[0]! : concatBytes(parts);
}

/** The index just past `"items":[` at the list's top level; -1 when not in these bytes yet. */
function itemsStart(bytes: Uint8Array): number {
  const first = nextNonSpace(bytes, 0);
  if (first < bytes.length && bytes[first] !== OPEN_OBJECT) throw new Error(NOT_A_LIST);
  let depth = 0;
  let itemsKey = false;
  for (let i = first; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (byte === QUOTE) {
      const start = i + 1;
      i = closingQuote(bytes, start);
      const after = nextNonSpace(bytes, i + 1);
      if (after >= bytes.length) return -1;
      itemsKey = depth === 1 && bytes[after] === COLON && isKey(bytes, start, i, ITEMS);
    } else if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) {
      depth++;
      if (depth === 2 && byte === OPEN_ARRAY && itemsKey) return i + 1;
    } else if (byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) {
      depth--;
      if (depth === 0) throw new Error(NOT_A_LIST);
    }
  }
  return -1;
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
  return concat(parts);
}
