/**
 * One JSON watch event (`{"type":"ADDED","object":{...}}`) marked with its cluster without
 * parsing it (pure): its object gets the source annotation, every other byte stays as the
 * cluster sent it, and its type and the object's kind and resourceVersion are noted.
 */
import { type MarkedObject, markObject, type Marks, PUNCTUATION, SCAN } from "./mark_object.ts";

const { CLOSE_ARRAY, CLOSE_OBJECT, COLON, COMMA, OPEN_ARRAY, OPEN_OBJECT, QUOTE } = PUNCTUATION;
const { closingQuote, nextNonSpace } = SCAN;

/** A watch event: its type, and its line with the object marked (in pieces). */
export interface MarkedEvent {
  type: string;
  /** The event's bytes with the mark inserted; the line as it was for BOOKMARK and ERROR. */
  pieces: Uint8Array[];
  /** The marked object (ADDED, MODIFIED, DELETED), undefined for other types. */
  object?: MarkedObject;
}

const decoder = new TextDecoder();
const UNMARKED = new Set(["BOOKMARK", "ERROR"]);

/** Marks the object of one event line; throws when the line is not a watch event. */
export function markEvent(line: Uint8Array, marks: Marks): MarkedEvent {
  const unreadable = () => new Error("a watch event that is not a JSON object with a type");
  let i = nextNonSpace(line, 0);
  if (line[i] !== OPEN_OBJECT) throw unreadable();
  let type: string | undefined;
  let object: MarkedObject | undefined;
  let objectAt = -1;
  for (;;) {
    i = nextNonSpace(line, i + 1);
    if (line[i] === CLOSE_OBJECT) break;
    if (line[i] !== QUOTE) throw unreadable();
    const keyEnd = closingQuote(line, i + 1);
    const key = decoder.decode(line.subarray(i + 1, keyEnd));
    i = nextNonSpace(line, keyEnd + 1);
    if (line[i] !== COLON) throw unreadable();
    const value = nextNonSpace(line, i + 1);
    if (key === "object" && line[value] === OPEN_OBJECT && !UNMARKED.has(type ?? "")) {
      object = markObject(line, value, marks, true);
      if (!object) throw unreadable();
      objectAt = value;
      i = object.end;
    } else {
      i = valueEnd(line, value);
      if (key === "type" && line[value] === QUOTE) {
        type = JSON.parse(decoder.decode(line.subarray(value, i))) as string;
      }
    }
    i = nextNonSpace(line, i);
    if (line[i] === CLOSE_OBJECT) break;
    if (line[i] !== COMMA) throw unreadable();
  }
  if (type === undefined) throw unreadable();
  if (!object || UNMARKED.has(type)) return { type, pieces: [line] };
  return {
    type,
    pieces: [line.subarray(0, objectAt), ...object.pieces, line.subarray(object.end)],
    object,
  };
}

/** The index just past the JSON value starting at `start`. */
function valueEnd(bytes: Uint8Array, start: number): number {
  const first = bytes[start];
  if (first === QUOTE) return closingQuote(bytes, start + 1) + 1;
  if (first !== OPEN_OBJECT && first !== OPEN_ARRAY) {
    let i = start;
    while (
      i < bytes.length && bytes[i] !== COMMA && bytes[i] !== CLOSE_OBJECT &&
      bytes[i] !== CLOSE_ARRAY
    ) i++;
    return i;
  }
  let depth = 0;
  for (let i = start; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (byte === QUOTE) i = closingQuote(bytes, i + 1);
    else if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) depth++;
    else if (byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return bytes.length;
}
