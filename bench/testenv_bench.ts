/**
 * The test control planes: warm start time of host, east and west (binaries cached), and the
 * resident memory of each kube-apiserver and of the shared etcd once they are ready.
 */
import { startTestEnv } from "../src/testenv/mod.ts";
import { guardedPid, rssMiB } from "./_process_memory.ts";
import { type BenchResult, median, type Row } from "./_report.ts";

const RUNS = Number(Deno.env.get("MCA_BENCH_RUNS") ?? 3);

/** Runs the test-environment benchmark and returns its rows. */
export async function testenvBench(): Promise<BenchResult> {
  const starts: number[] = [];
  const apiServers: number[] = [];
  const etcds: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const started = performance.now();
    const env = await startTestEnv();
    starts.push((performance.now() - started) / 1000);
    // Memory after a little work, as in a test: each cluster lists its namespaces.
    await Promise.all(env.clusters.map((cluster) => cluster.client.list("/api/v1/namespaces")));
    for (const pid of env.processIds().apiServers) apiServers.push(rssMiB(guardedPid(pid) ?? pid));
    etcds.push(rssMiB(guardedPid(env.processIds().etcd) ?? 0));
    await env.stop();
  }
  const rows: Row[] = [
    {
      name: "3 clusters, warm start (s)",
      values: { p50: median(starts), max: Math.max(...starts) },
    },
    {
      name: "kube-apiserver RSS (MiB)",
      values: { p50: median(apiServers), max: Math.max(...apiServers) },
    },
    { name: "etcd RSS (MiB)", values: { p50: median(etcds), max: Math.max(...etcds) } },
  ];
  return { rows, ratios: false };
}
