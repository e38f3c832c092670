/** The session's write side: frames waiting for the connection, joined into writes. */

/** A resolver for frames nobody waits for. */
export function ignore(): void {}

/** A frame waiting for the connection, and who waits for it. */
export interface Outgoing {
  frame: Uint8Array;
  resolve: () => void;
  reject: (error: Error) => void;
}

// One write carries up to this much; a larger frame goes alone rather than being copied.
const BATCH_BYTES = 64 * 1024;

/** Takes the next frames that fit one write, at least one, and joins them. */
export function takeBatch(outbox: Outgoing[]): { bytes: Uint8Array; items: Outgoing[] } {
  let count = 0;
  let size = 0;
  while (
    count < outbox.length && (count === 0 || size + outbox[count]!.frame.length <= BATCH_BYTES)
  ) {
    size += outbox[count]!.frame.length;
    count++;
  }
  const items = outbox.splice(0, count);
  if (items.length === 1) return { bytes: items[0]!.frame, items };
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const item of items) {
    bytes.set(item.frame, offset);
    offset += item.frame.length;
  }
  return { bytes, items };
}
