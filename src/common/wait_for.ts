/** Polling a condition with a deadline: how tests and the test environment wait, never by sleeping blindly. */

/** Options of waitFor. */
export interface WaitForOptions {
  /** Give up after this long; default 30 s. */
  timeoutMs?: number;
  /** Pause between attempts; default 100 ms. */
  intervalMs?: number;
  /** Says what was awaited, for the timeout error. */
  description?: string;
  /** Stops waiting at once; the signal's reason is thrown. */
  signal?: AbortSignal;
}

/**
 * Calls `check` until it returns a value other than undefined/false, and returns that value.
 * Errors thrown by `check` count as "not yet"; the last one is reported on timeout.
 */
export async function waitFor<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  options: WaitForOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const intervalMs = options.intervalMs ?? 100;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (true) {
    options.signal?.throwIfAborted();
    try {
      // One attempt may not outlive the deadline (a connection that never answers, say).
      const value = await withDeadline(Promise.resolve().then(check), deadline, options.signal);
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      // A real error says more than the deadline cutting the last attempt short.
      if (!(error instanceof DeadlineError) || lastError === undefined) lastError = error;
    }
    if (Date.now() >= deadline) {
      const what = options.description ?? "condition";
      const why = lastError instanceof Error ? `: last error: ${lastError.message}` : "";
      throw new Error(`Timed out after ${timeoutMs / 1000} s waiting for ${what}${why}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

function withDeadline<T>(
  work: Promise<T>,
  deadline: number,
  signal: AbortSignal | undefined,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const stop = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new DeadlineError()),
      Math.max(0, deadline - Date.now()),
    );
    onAbort = () => reject(signal!.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
  return Promise.race([work, stop]).finally(() => {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener("abort", onAbort);
  });
}

class DeadlineError extends Error {
  constructor() {
    super("the attempt did not finish before the deadline");
  }
}
