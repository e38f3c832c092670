/**
 * A loop of real client requests (fetch, as any HTTPS client) through the hub, counting answers:
 * each worker makes a new client (new TLS connections) every few requests, trusting the CA
 * bundle of the moment, so that both connections kept alive and new handshakes are exercised.
 */

/** What a load loop saw. */
export interface LoadResult {
  ok: number;
  failed: number;
  /** Failed requests by the phase they started in (see `phase()`). */
  failedIn: Record<string, number>;
  /** New clients (fresh TLS handshakes) made during the run. */
  clients: number;
  /** When each phase began, in order. */
  phases: string[];
  /** The first few failures of each phase, for the assertion message. */
  failures: string[];
}

/** A running load loop. */
export interface RequestLoad {
  /** Requests answered 200 so far. */
  ok(): number;
  /** Names what happens from now on; failures are counted by it. */
  phase(name: string): void;
  stop(): Promise<LoadResult>;
}

/** Starts `workers` loops of GET `url` with a bearer token; `trust()` gives the CAs to trust now. */
export function startRequestLoad(
  url: string,
  options: { token: string; trust: () => string; workers?: number; requestsPerClient?: number },
): RequestLoad {
  const result: LoadResult = {
    ok: 0,
    failed: 0,
    failedIn: {},
    clients: 0,
    phases: [],
    failures: [],
  };
  // A phase change during a request's flight counts too: a failure is the later phase's if
  // that one began while it was under way (an agent stopped with requests on it).
  const current = { phase: "start", changes: 0 };
  let stopping = false;
  const worker = async () => {
    while (!stopping) {
      const client = Deno.createHttpClient({ caCerts: [options.trust()] });
      result.clients++;
      try {
        for (let i = 0; i < (options.requestsPerClient ?? 20) && !stopping; i++) {
          const started = { phase: current.phase, changes: current.changes };
          await once(url, { token: options.token, client, phase: () => phaseOf(started) }, result);
        }
      } finally {
        client.close();
      }
    }
  };
  const phaseOf = (started: { phase: string; changes: number }) =>
    current.changes > started.changes && current.phase === "agent stopped"
      ? current.phase
      : started.phase;
  const running = Array.from({ length: options.workers ?? 4 }, worker);
  return {
    ok: () => result.ok,
    phase(name) {
      current.phase = name;
      current.changes++;
      result.phases.push(`${new Date().toISOString()} ${name}`);
    },
    async stop() {
      stopping = true;
      await Promise.all(running);
      return result;
    },
  };
}

const REQUEST_TIMEOUT_MS = 20_000;

async function once(
  url: string,
  { token, client, phase }: { token: string; client: Deno.HttpClient; phase: () => string },
  result: LoadResult,
): Promise<void> {
  try {
    // A request that never ends is a failure too, and must not hold the loop (and the test).
    const response = await fetch(url, {
      headers: { Authorization: `Bearer ${token}` },
      client,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const body = await response.text();
    if (response.status === 200) result.ok++;
    else fail(result, phase(), `HTTP ${response.status}: ${body.slice(0, 200)}`);
  } catch (error) {
    fail(result, phase(), (error as Error).message);
  }
}

function fail(result: LoadResult, phase: string, message: string): void {
  result.failed++;
  result.failedIn[phase] = (result.failedIn[phase] ?? 0) + 1;
  // The first few of each phase: a phase with few failures is not hidden by a noisy one.
  if (result.failures.filter((f) => f.startsWith(`${phase}: `)).length < 3) {
    result.failures.push(`${phase}: ${new Date().toISOString()} ${message}`);
  }
}
