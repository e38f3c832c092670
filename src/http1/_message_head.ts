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
    if (colon <= 0 || !TOKEN.test(name)) {
      throw new Error(`invalid header line "${line.slice(0, 100)}"`);
    }
    raw.push(name, line.slice(colon + 1).trim());
    names.push(name.toLowerCase());
  }
  return { raw, names };
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
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    const previous = headers[name];
    if (name === "set-cookie") {
      headers[name] = previous === undefined ? [value] : [...previous, value];
    } else headers[name] = previous === undefined ? value : `${previous}, ${value}`;
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
    result[name] = previous === undefined
      ? value
      : [...(Array.isArray(previous) ? previous : [previous]), value];
  }
  return result;
}
