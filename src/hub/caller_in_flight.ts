/**
 * Fairness between callers of the hub's entrances: each caller (the authenticated user) may have
 * at most a number of ordinary requests in flight on a replica; beyond that the hub answers 429
 * with Retry-After, as kube-apiserver's max-in-flight does, so one noisy client cannot take the
 * hub from the others. Streams (watch, logs -f) and upgrades (exec, attach, port-forward) are
 * long-running and not counted, as in kube-apiserver; requests a replica forwards are counted by
 * the replica that took them.
 */

/** Per-caller counts of requests in flight. */
export class CallerInFlight {
  readonly #counts = new Map<string, number>();

  constructor(readonly maxPerCaller: number) {}

  /** Takes a slot for the caller: the release, or undefined when the caller is at its limit. */
  admit(caller: string): (() => void) | undefined {
    const count = this.#counts.get(caller) ?? 0;
    if (count >= this.maxPerCaller) return undefined;
    this.#counts.set(caller, count + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.#counts.get(caller) ?? 1) - 1;
      if (left > 0) this.#counts.set(caller, left);
      else this.#counts.delete(caller);
    };
  }

  /** Requests in flight of a caller (for tests). */
  inFlight(caller: string): number {
    return this.#counts.get(caller) ?? 0;
  }
}

/** The refusal's message: who is limited, and what to do. */
export function tooManyInFlightMessage(caller: string, max: number): string {
  return `Too many requests in flight for "${caller}" on this hub replica (at most ${max}, ` +
    "not counting watches and streams): retry after the ones under way finish";
}
