/**
 * Waiting until a proxy answers its readiness check: the injected sidecar's postStart hook
 * runs it, so that the kubelet starts the app containers the moment the proxy is ready. A
 * startup probe would do the same a second or two later: the kubelet probes on a fixed
 * period (1 s at least) and only once it has seen the container running (docs/benchmarks.md).
 */

/** What waitReady needs; the defaults are the platform's. */
export interface WaitReadyDeps {
  fetch?: typeof fetch;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** The outcome: ready after some time, or not within the timeout and why. */
export type WaitReadyResult =
  | { ready: true; afterMs: number }
  | { ready: false; afterMs: number; last: string };

/** Asks `url` every `intervalMs` until it answers 200 or `timeoutMs` has passed. */
export async function waitReady(
  url: string,
  options: { timeoutMs: number; intervalMs: number },
  deps: WaitReadyDeps = {},
): Promise<WaitReadyResult> {
  const get = deps.fetch ?? fetch;
  const now = deps.now ?? (() => performance.now());
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const started = now();
  let last = "no answer yet";
  while (true) {
    try {
      const response = await get(url, { signal: AbortSignal.timeout(options.intervalMs * 20) });
      await response.body?.cancel();
      if (response.status === 200) return { ready: true, afterMs: now() - started };
      last = `HTTP ${response.status}`;
    } catch (error) {
      const cause = (error as Error).cause;
      last = (error as Error).message + (cause instanceof Error ? `: ${cause.message}` : "");
    }
    const afterMs = now() - started;
    if (afterMs >= options.timeoutMs) return { ready: false, afterMs, last };
    await sleep(Math.min(options.intervalMs, options.timeoutMs - afterMs));
  }
}
