/**
 * Merged reads side by side in one run, against three real API servers: a merged LIST of N
 * objects per cluster through `mca proxy` vs the three direct LISTs done in parallel (the
 * goal: within 1.3x of the slowest of them), and how late a watch event arrives through the
 * merge vs a direct watch. Two more rows show the floor of any merge in one JavaScript process:
 * this process reads the three lists, marks and joins their items as the proxy does (and
 * gzips them), without serving anything.
 */
import { joinSplicedLists, spliceList } from "../src/proxy/merge/list_splice.ts";
import { encodeBody } from "../src/proxy/merge/response_encoding.ts";
import { startTestEnv, type TestCluster } from "../src/testenv/mod.ts";
import { startSidecarProxy } from "../tests/_utils/sidecar_proxy.ts";
import type { BenchResult } from "./_report.ts";
import { median } from "./_report.ts";

const OBJECTS = Number(Deno.env.get("MCA_BENCH_MERGED_OBJECTS") ?? 1000);
const ROUNDS = Number(Deno.env.get("MCA_BENCH_ROUNDS") ?? 15);

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Reads a watch stream and reports when a line containing `text` arrives. */
function watchFor(response: Response): (text: string) => Promise<number> {
  const waiting = new Map<string, (at: number) => void>();
  (async () => {
    let buffered = "";
    const decoder = new TextDecoder();
    for await (const chunk of response.body!) {
      buffered += decoder.decode(chunk, { stream: true });
      for (const [text, resolve] of waiting) {
        if (buffered.includes(text)) {
          waiting.delete(text);
          resolve(performance.now());
        }
      }
      buffered = buffered.slice(-4096);
    }
  })().catch(() => {});
  return (text) => new Promise((resolve) => waiting.set(text, resolve));
}

/** Runs the merged-reads benchmark. */
export async function mergedBench(): Promise<BenchResult[]> {
  const env = await startTestEnv();
  const dir = await Deno.makeTempDir({ prefix: "mca-bench-merged-" });
  const clusters: TestCluster[] = ["host", "east", "west"].map((name) => env.cluster(name));
  const proxy = await startSidecarProxy(
    env,
    dir,
    `
clusters:
  east: {kubeconfig: ${env.cluster("east").kubeconfigPath}, context: east}
  west: {kubeconfig: ${env.cluster("west").kubeconfigPath}, context: west}
routes:
- name: everywhere
  match: {resources: [configmaps]}
  clusters: [home, east, west]
`,
  );
  const proxyClient = Deno.createHttpClient({ caCerts: [proxy.caPem] });
  const direct = new Map(
    clusters.map((c) => [c.name, Deno.createHttpClient({ caCerts: [c.caPem] })]),
  );
  try {
    for (const cluster of clusters) {
      await cluster.client.create("/api/v1/namespaces", { metadata: { name: "bench" } });
      for (let i = 0; i < OBJECTS; i += 100) {
        await Promise.all(
          Array.from(
            { length: Math.min(100, OBJECTS - i) },
            (_, j) =>
              cluster.client.create("/api/v1/namespaces/bench/configmaps", {
                metadata: { name: `${cluster.name}-${i + j}`, labels: { app: "bench" } },
                data: { value: "x".repeat(512) },
              }),
          ),
        );
      }
    }
    const path = "/api/v1/namespaces/bench/configmaps";
    const listDirect = (cluster: TestCluster) =>
      fetch(`${cluster.url}${path}`, {
        headers: { Authorization: `Bearer ${cluster.adminToken}` },
        client: direct.get(cluster.name)!,
      }).then((r) => r.arrayBuffer());
    const listMerged = () =>
      fetch(`${proxy.url}${path}`, {
        headers: { Authorization: `Bearer ${proxy.token}` },
        client: proxyClient,
      }).then((r) => r.arrayBuffer());
    const spliceHere = async () => {
      const bodies = await Promise.all(clusters.map(listDirect));
      const lists = bodies.map((body, i) => spliceList(new Uint8Array(body), clusters[i]!.name));
      return joinSplicedLists(lists, { resourceVersion: "1" });
    };
    const spliceAndGzipHere = async () => encodeBody(await spliceHere(), "gzip");
    const mergedMs: number[] = [];
    const directMs: number[] = [];
    const spliceMs: number[] = [];
    const gzipMs: number[] = [];
    let mergedBytes = 0;
    const timed = async (work: () => Promise<unknown>) => {
      const started = performance.now();
      await work();
      return performance.now() - started;
    };
    for (let round = 0; round < ROUNDS + 2; round++) {
      const parallel = await timed(() => Promise.all(clusters.map(listDirect)));
      const merged = await timed(async () => mergedBytes = (await listMerged()).byteLength);
      const spliced = await timed(spliceHere);
      const gzipped = await timed(spliceAndGzipHere);
      if (round < 2) continue; // warm-up: connections, JIT
      directMs.push(parallel);
      mergedMs.push(merged);
      spliceMs.push(spliced);
      gzipMs.push(gzipped);
    }

    // Watch delay: one merged watch through the proxy and one direct watch on east.
    const east = env.cluster("east");
    const mergedWatch = watchFor(
      await fetch(`${proxy.url}${path}?watch=true`, {
        headers: { Authorization: `Bearer ${proxy.token}` },
        client: proxyClient,
      }),
    );
    const directWatch = watchFor(
      await fetch(`${east.url}${path}?watch=true`, {
        headers: { Authorization: `Bearer ${east.adminToken}` },
        client: direct.get("east")!,
      }),
    );
    const viaMerge: number[] = [];
    const viaDirect: number[] = [];
    for (let i = 0; i < ROUNDS * 2; i++) {
      const name = `watched-${i}`;
      const merged = mergedWatch(`"${name}"`);
      const straight = directWatch(`"${name}"`);
      const sent = performance.now();
      await east.client.create(`/api/v1/namespaces/bench/configmaps`, { metadata: { name } });
      viaMerge.push((await merged) - sent);
      viaDirect.push((await straight) - sent);
    }

    return [
      {
        title: `LIST of ${OBJECTS} objects from each of 3 clusters (${
          (mergedBytes / 1e6).toFixed(1)
        } MB merged), ${ROUNDS} rounds`,
        rows: [
          {
            name: "3 direct LISTs in parallel",
            values: { "p50 ms": median(directMs), "max ms": Math.max(...directMs) },
          },
          {
            name: "merged LIST through mca proxy",
            values: { "p50 ms": median(mergedMs), "max ms": Math.max(...mergedMs) },
          },
          {
            name: "floor: 3 direct LISTs + mark and join here",
            values: { "p50 ms": median(spliceMs), "max ms": Math.max(...spliceMs) },
          },
          {
            name: "floor: ... + gzip here",
            values: { "p50 ms": median(gzipMs), "max ms": Math.max(...gzipMs) },
          },
        ],
        ratios: true,
      },
      {
        title: "watch event delay (create in east -> event received)",
        rows: [
          {
            name: "direct watch",
            values: { "p50 ms": median(viaDirect), "p99 ms": percentile(viaDirect, 99) },
          },
          {
            name: "merged watch through mca proxy",
            values: { "p50 ms": median(viaMerge), "p99 ms": percentile(viaMerge, 99) },
          },
        ],
        ratios: true,
      },
    ];
  } finally {
    proxyClient.close();
    for (const client of direct.values()) client.close();
    await proxy.stop();
    await env.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
