/**
 * The position behind each plain resourceVersion a merged watch issued (pure). Objects keep
 * their cluster's own resourceVersion in merged reads (so an unchanged object has one version
 * in a LIST, a watch and a GET, and writes keep optimistic concurrency), but a client resumes a
 * watch from the last event's version: the proxy remembers which position in every cluster
 * that version stood for. The same version can be issued at different positions (two watches,
 * or two clusters whose revisions happen to be equal): the earliest position in each cluster
 * is kept, which loses nothing for any of them (at worst an event arrives twice). When the
 * positions cannot be ordered, or the memory is full and forgets the oldest entries, resolving
 * the version fails and the client gets 410 Gone, which makes it relist.
 */
import { compareVersions, type VersionVector } from "./merged_version.ts";

/** Entries kept by default (their memory with three clusters: docs/benchmarks.md). */
export const DEFAULT_POSITIONS = 10_000;

/** A bounded memory of issued versions and their positions, per watched path. */
export class PositionMemory {
  /** `${scope} ${version}` → position; null when its positions could not be reconciled. */
  readonly #entries = new Map<string, VersionVector | null>();

  constructor(readonly capacity: number = DEFAULT_POSITIONS) {}

  /** Notes that `version` was issued on `scope` (a watched path) at `position`. */
  record(scope: string, version: string, position: VersionVector): void {
    const key = `${scope} ${version}`;
    const known = this.#entries.get(key);
    const value = known === undefined ? { ...position } : known && earliest(known, position);
    // Re-inserting makes it the newest: the oldest entries are the ones forgotten.
    this.#entries.delete(key);
    this.#entries.set(key, value);
    if (this.#entries.size > this.capacity) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
  }

  /** The position behind `version` on `scope`, or undefined when the proxy cannot tell. */
  resolve(scope: string, version: string): VersionVector | undefined {
    const position = this.#entries.get(`${scope} ${version}`);
    return position ? { ...position } : undefined;
  }

  get size(): number {
    return this.#entries.size;
  }
}

/**
 * The earlier of two positions in every cluster, or null when one of them cannot be ordered or
 * only one of them has seen a cluster (absent means "nothing seen there": neither is earlier).
 */
export function earliest(a: VersionVector, b: VersionVector): VersionVector | null {
  const result: VersionVector = {};
  for (const cluster of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const x = a[cluster], y = b[cluster];
    if (x === undefined || y === undefined) return null;
    const order = compareVersions(x, y);
    if (order === undefined) return null;
    result[cluster] = order <= 0 ? x : y;
  }
  return result;
}
