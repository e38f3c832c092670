/** Pieces of HTTP/1.1 message heads (RFC 9112) shared by the request and response readers. */
import { Buffer } from "node:buffer";
import type { IncomingHttpHeaders } from "node:http";

const CR = 13, LF = 10;

/** Where the empty line that ends a head starts, or -1. */
export function indexOfHeadEnd(data: Uint8Array, from = 0): number {
  for (let i = data.indexOf(CR, from); i >= 0 && i + 3 < data.length; i = data.indexOf(CR, i + 1)) {
    if (data[i + 1] === LF && data[i + 2] === CR && data[i + 3] === LF) return i;
  }
  return -1;
}

/** Bytes as latin1 text (each byte one char): how head bytes become text and back unchanged. */
export function latin1Text(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
}

const encoder = new TextEncoder();
const NON_ASCII = /[\u0080-\uffff]/;

/**
 * Text back to the bytes it was read from (latin1: one byte per char). A header value may carry
 * UTF-8 a client sent, read as latin1; encoding it as UTF-8 again would double it. ASCII, the
 * common case, takes the encoder's faster path.
 */
export function latin1Bytes(text: string): Uint8Array {
  return NON_ASCII.test(text) ? Buffer.from(text, "latin1") : encoder.encode(text);
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/**
 * Control characters a field value may not hold (RFC 9110 §5.5: visible characters, obs-text,
 * spaces and tabs), as Go's net/http refuses them: a lone CR, LF or NUL would split or cut the
 * header when it is written on.
 */
// deno-lint-ignore no-control-regex -- control characters are what this finds
const CONTROL_IN_VALUE = /[\0-\x08\x0a-\x1f\x7f]/;

/** Header fields as received, with their names in lower case for lookups. */
export interface HeaderFields {
  /** Name, value, name, value... (names as sent). */
  raw: string[];
  /** The names in lower case, one per field. */
  names: string[];
}

/** Parses header lines; throws on a malformed one. */
export function parseHeaderLines(lines: string[]): HeaderFields {
  const raw: string[] = [];
  const names: string[] = [];
  for (const line of lines) {
    const colon = line.indexOf(":");
    const name = line.slice(0, colon);
    // Obsolete line folding (a line starting with whitespace) is refused, as RFC 9112 allows.
    // Nothing that may be part of a value is quoted back: it may be a credential.
    if (colon <= 0 || !TOKEN.test(name)) {
      const shown = colon > 0 && !/\s/.test(name) ? ` "${printable(name.slice(0, 40))}"` : "";
      throw new Error(`invalid header line: the name${shown} is not a token`);
    }
    const value = line.slice(colon + 1).trim();
    if (CONTROL_IN_VALUE.test(value)) {
      throw new Error(`the value of header "${name}" holds a control character`);
    }
    raw.push(name, value);
    names.push(name.toLowerCase());
  }
  return { raw, names };
}

// A reason phrase: tabs, spaces, visible characters and obs-text (RFC 9112 §4).
const REASON = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * Why a status line or a header field cannot be written as given, or undefined. What a server
 * writes may come from a party it does not trust (an agent's answer): a CR or LF in it would
 * write a header, or a whole response, of that party's choosing.
 */
export function responseFieldError(
  field: { status: number; reason: string } | { name: string; value: unknown },
): string | undefined {
  if ("status" in field) {
    const { status, reason } = field;
    if (!Number.isInteger(status) || status < 100 || status > 999) {
      return `invalid response status "${printable(String(status))}"`;
    }
    return REASON.test(reason)
      ? undefined
      : "the response's reason phrase holds a control character";
  }
  const { name, value } = field;
  if (!TOKEN.test(name)) return `invalid response header name "${printable(name)}"`;
  for (const one of Array.isArray(value) ? value : [value]) {
    if (CONTROL_IN_VALUE.test(String(one))) {
      return `the value of response header "${name}" holds a control character`;
    }
  }
  return undefined;
}

/** Every value of one header (name in lower case). */
export function headerValues(fields: HeaderFields, name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i < fields.names.length; i++) {
    if (fields.names[i] === name) values.push(fields.raw[2 * i + 1]!);
  }
  return values;
}

/** The comma-separated tokens of a header, lower case. */
export function headerTokens(fields: HeaderFields, name: string): string[] {
  return headerValues(fields, name).flatMap((v) => v.toLowerCase().split(",")).map((t) => t.trim())
    .filter(Boolean);
}

/** Whether the connection stays open after this message (HTTP/1.1 unless "close"; 1.0 if asked). */
export function keepsAlive(version: string, fields: HeaderFields): boolean {
  const tokens = headerTokens(fields, "connection");
  if (tokens.includes("close")) return false;
  return version !== "1.0" || tokens.includes("keep-alive");
}

/**
 * Headers keyed by lower-case name as node:http gives them: repeated values joined with ", "
 * (set-cookie kept as a list), so code written for node reads either.
 */
export function headersObject(raw: string[]): IncomingHttpHeaders {
  const headers: Record<string, string | string[]> = {};
  // Repeated names gather their values first and are joined once: linear in the header count.
  let repeated: Map<string, string[]> | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    const previous = headers[name];
    if (previous === undefined) {
      headers[name] = name === "set-cookie" ? [value] : value;
      continue;
    }
    repeated ??= new Map();
    const values = repeated.get(name);
    if (values) values.push(value);
    else repeated.set(name, [value]);
  }
  for (const [name, values] of repeated ?? []) {
    const first = headers[name]!;
    headers[name] = name === "set-cookie"
      ? [...first, ...values]
      : [first as string, ...values].join(", ");
  }
  return headers as IncomingHttpHeaders;
}

/** Headers from a raw list (names lowercased), repeated names kept as arrays, some dropped. */
export function headersFromRaw(
  raw: string[],
  drop: (lowerName: string) => boolean = () => false,
): Record<string, string | string[]> {
  const result: Record<string, string | string[]> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (drop(name)) continue;
    const value = raw[i + 1]!;
    const previous = result[name];
    // Arrays made here grow in place: copying them per value was quadratic in repeated headers.
    if (previous === undefined) result[name] = value;
    else if (Array.isArray(previous)) previous.push(value);
    else result[name] = [previous, value];
  }
  return result;
}

/** Text shortened to printable ASCII for an error message. */
export function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, "?").slice(0, 100);
}
