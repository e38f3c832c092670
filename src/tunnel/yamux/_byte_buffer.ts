/** The session's read side: bytes received but not yet parsed into frames. */

/** Bytes received but not yet parsed, without copying every chunk into one buffer. */
export class ByteBuffer {
  #chunks: Uint8Array[] = [];
  length = 0;

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.length += chunk.length;
  }

  peek(size: number): Uint8Array {
    const first = this.#chunks[0]!;
    if (first.length >= size) return first.subarray(0, size);
    return this.#copy(size, false);
  }

  take(size: number): Uint8Array {
    const first = this.#chunks[0]!;
    if (first.length >= size) {
      const part = first.subarray(0, size);
      this.skip(size);
      // The payload outlives this buffer: a small slice is copied out, so that it does not keep
      // a large read chunk alive; a payload that is most of its chunk (a data frame in its own
      // WebSocket message) is used in place, which spares copying bulk data once more.
      return part.length * 2 >= first.length ? part : part.slice();
    }
    return this.#copy(size, true);
  }

  skip(size: number): void {
    this.length -= size;
    while (size > 0) {
      const first = this.#chunks[0]!;
      if (first.length <= size) {
        this.#chunks.shift();
        size -= first.length;
      } else {
        this.#chunks[0] = first.subarray(size);
        size = 0;
      }
    }
  }

  #copy(size: number, consume: boolean): Uint8Array {
    const out = new Uint8Array(size);
    let offset = 0;
    for (const chunk of this.#chunks) {
      const part = chunk.subarray(0, Math.min(chunk.length, size - offset));
      out.set(part, offset);
      offset += part.length;
      if (offset === size) break;
    }
    if (consume) this.skip(size);
    return out;
  }
}
