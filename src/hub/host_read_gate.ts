/**
 * A bound on the host reads that agents cause before they are authenticated. `/connect` and the
 * token routes read Secrets on the host to check a token, so anyone who reaches the hub could
 * turn a flood of made-up tokens into a flood of host API calls. A few reads run at once, a
 * bounded queue waits, and beyond it the hub answers 429 at once: real agents back off and
 * retry. It bounds concurrency, not a rate per address, because agents behind a load balancer
 * or an Ingress share one source address with whoever floods.
 */
import type { AgentTokenStore } from "./agent_token_store.ts";

/** The hub is checking as many agents as it allows; the caller should retry shortly. */
export class HostReadsBusyError extends Error {
  constructor() {
    super("The hub is checking many agents right now: retry in a second");
  }
}

/** Runs host reads at most `maxInFlight` at a time, with at most `maxWaiting` queued. */
export class HostReadGate {
  #inFlight = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(readonly maxInFlight: number, readonly maxWaiting: number) {}

  /** Runs `read` when a slot is free; throws HostReadsBusyError when the queue is full. */
  async run<T>(read: () => Promise<T>): Promise<T> {
    if (this.#inFlight < this.maxInFlight) this.#inFlight++;
    else if (this.#waiting.length < this.maxWaiting) {
      // The slot is handed over by the read that finishes (the count stays as it is).
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else throw new HostReadsBusyError();
    try {
      return await read();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#inFlight--;
    }
  }

  /** Reads running and waiting now (for tests and metrics). */
  get load(): { inFlight: number; waiting: number } {
    return { inFlight: this.#inFlight, waiting: this.#waiting.length };
  }
}

/** The token store with every host read behind the gate; `onBusy` counts refusals. */
export function gatedTokenStore(
  store: AgentTokenStore,
  gate: HostReadGate,
  onBusy: () => void,
): AgentTokenStore {
  const gated = <T>(read: () => Promise<T>) =>
    gate.run(read).catch((error) => {
      if (error instanceof HostReadsBusyError) onBusy();
      throw error;
    });
  return {
    overlapMs: store.overlapMs,
    accepted: (cluster) => gated(() => store.accepted(cluster)),
    join: (joinToken, cluster) => gated(() => store.join(joinToken, cluster)),
    rotate: (cluster, presented, next) => gated(() => store.rotate(cluster, presented, next)),
    dropPrevious: (cluster, presented) => gated(() => store.dropPrevious(cluster, presented)),
  };
}
