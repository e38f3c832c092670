/** Where named objects were last seen, so that requests by name need not ask every cluster. */
import type { RequestInfo } from "./request_info.ts";

/** A bounded map from object identity to cluster; the least recently used entries go first. */
export class OwnerIndex {
  #entries = new Map<string, string>();
  constructor(private readonly capacity = 10_000) {}

  /** The identity of the object a request addresses (subresources address their object). */
  static key(info: RequestInfo): string {
    return `${info.apiGroup}/${info.resource}/${info.namespace}/${info.name}`;
  }

  get(key: string): string | undefined {
    const cluster = this.#entries.get(key);
    if (cluster !== undefined) {
      this.#entries.delete(key);
      this.#entries.set(key, cluster);
    }
    return cluster;
  }

  set(key: string, cluster: string): void {
    this.#entries.delete(key);
    this.#entries.set(key, cluster);
    if (this.#entries.size > this.capacity) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  get size(): number {
    return this.#entries.size;
  }
}
