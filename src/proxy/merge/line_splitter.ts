/**
 * Newline-delimited frames from a byte stream (pure): kube-apiserver's JSON watch writes one
 * event per line, and the chunks it reaches the proxy in cut lines (and the UTF-8 characters in
 * them) anywhere. Lines are cut as bytes, never decoded, so every byte goes on as it came.
 */
import { concatBytes } from "../../bytes.ts";

const NEWLINE = 10;

/** Collects chunks and returns the complete lines in them, without their "\n". */
export class LineSplitter {
  /** The unfinished line: the parts it has so far. */
  #parts: Uint8Array[] = [];

  /** The lines this chunk completes (empty lines skipped). */
  push(chunk: Uint8Array): Uint8Array[] {
    const lines: Uint8Array[] = [];
    let from = 0;
    for (;;) {
      const newline = chunk.indexOf(NEWLINE, from);
      if (newline < 0) break;
      const piece = chunk.subarray(from, newline);
      const line = this.#parts.length === 0 ? piece : concatBytes([...this.#parts, piece]);
      this.#parts = [];
      if (line.length > 0) lines.push(line);
      from = newline + 1;
    }
    // The rest of the chunk may be reused by its producer: keep a copy.
    if (from < chunk.length) this.#parts.push(chunk.slice(from));
    return lines;
  }

  /** What is left after the last newline (a stream that ended mid-line), or undefined. */
  end(): Uint8Array | undefined {
    const rest = this.#parts.length === 0 ? undefined : concatBytes(this.#parts);
    this.#parts = [];
    return rest && rest.length > 0 ? rest : undefined;
  }
}
