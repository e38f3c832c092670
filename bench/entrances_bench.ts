/**
 * The ways to a member, side by side in one run, on the test clusters with nodes and mca as
 * deployed (the chart on host, east's agent from `mca agent install`): east's API server
 * directly, the hub directly (`mca kubeconfig`), and the host API server's aggregated entrance
 * (`mca kubeconfig --via-host-api-server`), plus the host API server answering itself, the cost
 * of its own hop. A small GET, with one connection (each request alone) and with 16.
 */
import { startTestEnv } from "../src/testenv/mod.ts";
import { installAgent, installMcaChart } from "../tests/_utils/mca_chart.ts";
import { kubectlOk } from "../tests/_utils/e2e.ts";
import type { BenchResult, Row } from "./_report.ts";
import { runWrk } from "./_wrk.ts";

const SECONDS = Number(Deno.env.get("MCA_BENCH_SECONDS") ?? 5);
const SMALL_GET = "/api/v1/namespaces/default";

/** Runs the entrances benchmark; one table per concurrency. */
export async function entrancesBench(): Promise<BenchResult[]> {
  const started = Date.now();
  const env = await startTestEnv({
    nodes: true,
    clusters: ["host", "east"],
    onProgress: (message) =>
      console.error(`[entrances ${((Date.now() - started) / 1000).toFixed(0)} s] ${message}`),
  });
  try {
    const host = env.cluster("host");
    const east = env.cluster("east");
    const { hubUrl } = await installMcaChart(env);
    await installAgent(env, "east");
    await kubectlOk(host, [
      "wait",
      "--for=condition=Available",
      "apiservice/v1alpha1.proxy.mca.k8s.io",
      "--timeout=120s",
    ]);
    const asHost = [`Authorization: Bearer ${host.adminToken}`];
    const targets = [
      {
        name: "east's API server directly",
        url: `${east.url}${SMALL_GET}`,
        headers: [`Authorization: Bearer ${east.adminToken}`],
      },
      {
        name: "hub directly (mca kubeconfig)",
        url: `${hubUrl}/clusters/east${SMALL_GET}`,
        headers: asHost,
      },
      {
        name: "host API server, aggregated (--via-host-api-server)",
        url: `${host.url}/apis/proxy.mca.k8s.io/v1alpha1/clusters/east/proxy${SMALL_GET}`,
        headers: asHost,
      },
      {
        name: "host API server's own answer (its hop alone)",
        url: `${host.url}${SMALL_GET}`,
        headers: asHost,
      },
    ];
    const tables: BenchResult[] = [];
    for (const connections of [1, 16]) {
      const rows: Row[] = [];
      for (const target of targets) {
        await runWrk(target.url, { connections, seconds: 1, headers: target.headers });
        const run = await runWrk(target.url, {
          connections,
          seconds: SECONDS,
          headers: target.headers,
        });
        rows.push({
          name: `${target.name}${run.errors ? ` (${run.errors} errors)` : ""}`,
          values: { "p50 ms": run.p50Ms, "p99 ms": run.p99Ms, "req/s": run.requestsPerSecond },
        });
      }
      tables.push({ title: `small GET on east, ${connections} connection(s)`, rows, ratios: true });
    }
    return tables;
  } finally {
    await env.stop();
  }
}
