/**
 * CPU per small GET of the processes on a request path: utime + stime from /proc/<pid>/stat
 * (all threads, so the GC and TLS threads count) before and after one wrk run, divided by the
 * requests wrk completed. Linux only.
 */
import { runWrk } from "../_wrk.ts";

// USER_HZ: /proc reports CPU time in these ticks; 100 on every Linux we run on.
const TICKS_PER_SECOND = 100;

/** CPU seconds a process has used so far (user + system), NaN when it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // Fields after the command name (which may hold spaces): state is the first, utime the 12th.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return NaN;
  }
}

/** What one measured run found. */
export interface CpuPerGet {
  requestsPerSecond: number;
  errors: number;
  /** Microseconds of CPU per completed request, per process name. */
  microseconds: Record<string, number>;
}

/** Runs wrk against `url` and reads the CPU each of `pids` spent on it. */
export async function measureCpuPerGet(
  url: string,
  pids: Record<string, number>,
  options: { headers: string[]; connections: number; seconds: number },
): Promise<CpuPerGet> {
  const before = Object.fromEntries(Object.entries(pids).map(([n, pid]) => [n, cpuSeconds(pid)]));
  const result = await runWrk(url, options);
  const microseconds: Record<string, number> = {};
  for (const [name, pid] of Object.entries(pids)) {
    microseconds[name] = ((cpuSeconds(pid) - before[name]!) * 1e6) / result.requests;
  }
  return { requestsPerSecond: result.requestsPerSecond, errors: result.errors, microseconds };
}
