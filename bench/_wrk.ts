/** Runs wrk (from Debian's packages) and reads its throughput and latency percentiles. */

/** What one wrk run measured. */
export interface WrkResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  /** Requests completed during the run. */
  requests: number;
}

/** Runs `wrk` at a fixed number of connections; headers as "Name: value". */
export async function runWrk(
  url: string,
  options: { connections?: number; seconds?: number; headers?: string[] } = {},
): Promise<WrkResult> {
  const connections = options.connections ?? 16;
  const args = [
    // wrk needs at least one connection per thread.
    `-t${Math.min(2, connections)}`,
    `-c${connections}`,
    `-d${options.seconds ?? 5}s`,
    "--latency",
    ...(options.headers ?? []).flatMap((header) => ["-H", header]),
    url,
  ];
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command("wrk", { args, stdout: "piped", stderr: "piped" }).output();
  } catch {
    throw new Error("The benchmark needs wrk: apt-get install wrk");
  }
  const text = new TextDecoder().decode(output.stdout);
  if (!output.success) throw new Error(`wrk failed: ${new TextDecoder().decode(output.stderr)}`);
  const percentile = (p: string) =>
    toMs(new RegExp(`^\\s+${p}%\\s+(\\S+)`, "m").exec(text)?.[1] ?? "NaN");
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1] ?? 0);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(
    text,
  );
  const errors = non2xx +
    (socketErrors ? socketErrors.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0);
  return {
    requestsPerSecond: Number(/Requests\/sec:\s+(\S+)/.exec(text)?.[1] ?? NaN),
    p50Ms: percentile("50"),
    p99Ms: percentile("99"),
    errors,
    requests: Number(/(\d+) requests in/.exec(text)?.[1] ?? NaN),
  };
}

function toMs(value: string): number {
  const match = /^([\d.]+)(us|ms|s)$/.exec(value);
  if (!match) return NaN;
  const number = Number(match[1]);
  return match[2] === "us" ? number / 1000 : match[2] === "s" ? number * 1000 : number;
}
