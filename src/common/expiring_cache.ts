/**
 * A map whose entries expire a fixed time after they were set, and that holds at most
 * `maxEntries`: a cache keyed by what callers send (tokens, names in paths) must not grow with
 * every new key a client makes up.
 */
export class ExpiringCache<V> {
  // Insertion order is expiry order: every entry lives `ttlMs`, and a set moves its key last.
  #entries = new Map<string, { value: V; until: number }>();

  constructor(
    readonly ttlMs: number,
    readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Entries held, expired ones not yet dropped included. */
  get size(): number {
    return this.#entries.size;
  }

  /** The value set for `key`, unless it expired. */
  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.until > this.now()) return entry.value;
    this.#entries.delete(key);
    return undefined;
  }

  /** Sets `key`; makes room first by dropping expired entries, then the oldest. */
  set(key: string, value: V): void {
    this.#entries.delete(key);
    if (this.#entries.size >= this.maxEntries) this.#prune();
    this.#entries.set(key, { value, until: this.now() + this.ttlMs });
  }

  #prune(): void {
    const now = this.now();
    for (const [key, entry] of this.#entries) {
      if (entry.until > now && this.#entries.size < this.maxEntries) return;
      this.#entries.delete(key);
    }
  }
}
