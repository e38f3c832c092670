/**
 * Where a streamed answer (a watch, `logs -f`) may end without cutting a message in half
 * (pure). A proxy that stops ends its streams there, so that clients see a watch that ended,
 * as when kube-apiserver closes it, rather than a broken one. JSON watch events and log lines
 * end with a newline; protobuf watch events are frames of a 4-byte big-endian length and that
 * many bytes (k8s.io/apimachinery's length-delimited framer).
 */

/** The state of a stream's framing as its bytes go by. */
export interface StreamBoundary {
  /** True when the bytes so far end with a whole message. */
  atBoundary(): boolean;
  /**
   * Takes the next chunk; returns the length of its prefix that first completes a message (0
   * when already at a boundary), or undefined when the chunk ends inside a message.
   */
  push(chunk: Uint8Array): number | undefined;
}

/** The boundary tracker for an answer of this content type. */
export function streamBoundary(contentType: string | undefined): StreamBoundary {
  return /protobuf/i.test(contentType ?? "") && /stream=watch/i.test(contentType ?? "")
    ? lengthPrefixed()
    : newlineDelimited();
}

function newlineDelimited(): StreamBoundary {
  let last = 0x0a;
  return {
    atBoundary: () => last === 0x0a,
    push(chunk) {
      if (chunk.length === 0) return last === 0x0a ? 0 : undefined;
      const at = last === 0x0a ? 0 : chunk.indexOf(0x0a) + 1 || undefined;
      last = chunk[chunk.length - 1]!;
      return at;
    },
  };
}

function lengthPrefixed(): StreamBoundary {
  let header: number[] = [];
  let remaining = 0;
  const atBoundary = () => header.length === 0 && remaining === 0;
  return {
    atBoundary,
    push(chunk) {
      let first: number | undefined = atBoundary() ? 0 : undefined;
      let at = 0;
      while (at < chunk.length) {
        if (remaining > 0) {
          const take = Math.min(remaining, chunk.length - at);
          remaining -= take;
          at += take;
        } else {
          header.push(chunk[at++]!);
          if (header.length < 4) continue;
          remaining = ((header[0]! << 24) >>> 0) + (header[1]! << 16) + (header[2]! << 8) +
            header[3]!;
          header = [];
        }
        if (first === undefined && atBoundary()) first = at;
      }
      return first;
    },
  };
}
