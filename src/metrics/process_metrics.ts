/**
 * The metrics every mode exports about itself: `mca_build_info` and the process's memory, CPU,
 * open file descriptors, start time and event-loop lag, read when scraped.
 */
import process from "node:process";
import { MCA_VERSION } from "../version.ts";
import type { MetricsRegistry } from "./registry.ts";

/** How often the event-loop lag is sampled. */
const LAG_INTERVAL_MS = 500;

/** What the process metrics read; the defaults read the running process. */
export interface ProcessSource {
  residentMemoryBytes(): number;
  cpuSeconds(): number;
  /** Undefined where /proc is not there (not Linux). */
  openFds(): number | undefined;
  startTimeSeconds: number;
  /** The event loop's latest lag in seconds. */
  eventLoopLagSeconds(): number;
  build: { version: string; deno: string; arch: string };
}

/** Registers build info and process metrics; their values are read at each render. */
export function registerProcessMetrics(
  registry: MetricsRegistry,
  source: ProcessSource = runningProcess(),
): void {
  registry.gauge("mca_build_info", "The running mca: its version, Deno's, the CPU architecture")
    .set(1, source.build);
  const rss = registry.gauge("process_resident_memory_bytes", "Resident memory size in bytes");
  const cpu = registry.counter(
    "process_cpu_seconds_total",
    "User and system CPU time spent in seconds",
  );
  const fds = registry.gauge("process_open_fds", "Number of open file descriptors");
  registry.gauge("process_start_time_seconds", "Start time of the process since the Unix epoch")
    .set(source.startTimeSeconds);
  const lag = registry.gauge(
    "mca_event_loop_lag_seconds",
    `How late a timer of the event loop fired, sampled every ${LAG_INTERVAL_MS} ms`,
  );
  registry.beforeRender(() => {
    rss.set(source.residentMemoryBytes());
    cpu.inc({}, source.cpuSeconds() - cpu.get());
    const open = source.openFds();
    if (open !== undefined) fds.set(open);
    lag.set(source.eventLoopLagSeconds());
  });
}

/** The running process, through Deno, node:process and /proc. */
export function runningProcess(): ProcessSource {
  return {
    residentMemoryBytes: () => Deno.memoryUsage().rss,
    cpuSeconds: () => {
      const { user, system } = process.cpuUsage();
      return (user + system) / 1e6;
    },
    openFds: countOpenFds,
    startTimeSeconds: performance.timeOrigin / 1000,
    eventLoopLagSeconds: sampleEventLoopLag(),
    build: { version: MCA_VERSION, deno: Deno.version.deno, arch: Deno.build.arch },
  };
}

function countOpenFds(): number | undefined {
  try {
    let count = 0;
    for (const _ of Deno.readDirSync("/proc/self/fd")) count++;
    // Reading the directory opened one more.
    return count - 1;
  } catch {
    return undefined;
  }
}

let lagSeconds: (() => number) | undefined;

/**
 * One sampler per process, however many registries: a timer that measures how late it fires.
 * Unref'd, so it never holds the process open, and never stopped.
 */
function sampleEventLoopLag(): () => number {
  if (lagSeconds) return lagSeconds;
  let latest = 0;
  let expected = performance.now() + LAG_INTERVAL_MS;
  const timer = setInterval(() => {
    const now = performance.now();
    latest = Math.max(0, now - expected) / 1000;
    expected = now + LAG_INTERVAL_MS;
  }, LAG_INTERVAL_MS);
  Deno.unrefTimer(timer);
  return lagSeconds = () => latest;
}
