/**
 * The sidecar's CPU per request of two checkouts side by side in one run (the current one and
 * another, e.g. a worktree of an older commit), alternating, in front of the same API server:
 * `deno run -A bench/sidecar_cpu_compare.ts /path/to/other/checkout [rounds]`. CPU time per
 * request is far less sensitive to other load on the machine than throughput.
 */
import { join } from "node:path";
import { renderKubeconfig } from "../src/kube/mod.ts";
import { startTestEnv } from "../src/testenv/mod.ts";
import { waitFor } from "../src/common/mod.ts";
import { freePort } from "../src/testenv/mod.ts";
import { cpuSeconds } from "./tunnel/cpu_per_get.ts";
import { runWrk } from "./_wrk.ts";
import { SIDECAR_V8_FLAGS } from "../src/inject/mod.ts";

const other = Deno.args[0];
if (!other) throw new Error("usage: sidecar_cpu_compare.ts OTHER_CHECKOUT [ROUNDS]");
const rounds = Number(Deno.args[1] ?? 3);
const checkouts = { current: Deno.cwd(), other };
const PATHS = {
  "small GET": "/api/v1/namespaces/bench/configmaps/small",
  "100-item LIST": "/api/v1/namespaces/bench/configmaps?limit=100",
};

await using env = await startTestEnv({ clusters: ["m"] });
const member = env.cluster("m");
await member.client.create("/api/v1/namespaces", { metadata: { name: "bench" } });
for (let i = 0; i < 100; i++) {
  await member.client.create("/api/v1/namespaces/bench/configmaps", {
    metadata: { name: i === 0 ? "small" : `c${i}` },
    data: { value: "x".repeat(200) },
  });
}
const dir = await Deno.makeTempDir({ prefix: "mca-cpu-compare-" });
const kubeconfig = join(dir, "member.kubeconfig");
await Deno.writeTextFile(
  kubeconfig,
  renderKubeconfig([{
    name: "m",
    server: member.url,
    caPem: member.caPem,
    user: { token: member.adminToken },
  }]),
);

async function startSidecar(root: string) {
  const port = freePort();
  const written = join(dir, `mca-${port}.kubeconfig`);
  const child = new Deno.Command(join(root, "scripts/deno"), {
    args: [
      "run",
      "--allow-all",
      join(root, "main.ts"),
      "proxy",
      `--kubeconfig=${kubeconfig}`,
      "--contexts=m",
      `--listen=127.0.0.1:${port}`,
      `--write-kubeconfig=${written}`,
      "--log-level=warn",
    ],
    env: { DENO_V8_FLAGS: SIDECAR_V8_FLAGS },
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  await waitFor(() => Deno.stat(written).then(() => true), { description: "mca proxy" });
  const token = /token: (\S+)/.exec(await Deno.readTextFile(written))![1]!;
  return {
    url: `https://127.0.0.1:${port}`,
    headers: [`Authorization: Bearer ${token}`],
    pid: child.pid,
    child,
  };
}

const results: Record<string, number[]> = {};
for (let round = 0; round < rounds; round++) {
  for (const [name, root] of Object.entries(checkouts)) {
    const sidecar = await startSidecar(root);
    try {
      for (const [label, path] of Object.entries(PATHS)) {
        await runWrk(`${sidecar.url}${path}`, {
          connections: 4,
          seconds: 2,
          headers: sidecar.headers,
        });
        for (const connections of [16, 1]) {
          const before = cpuSeconds(sidecar.pid);
          const run = await runWrk(`${sidecar.url}${path}`, {
            connections,
            seconds: 5,
            headers: sidecar.headers,
          });
          const us = ((cpuSeconds(sidecar.pid) - before) * 1e6) / run.requests;
          (results[`${label}, ${connections} conn., ${name}`] ??= []).push(Math.round(us));
        }
      }
    } finally {
      sidecar.child.kill("SIGTERM");
      await sidecar.child.status;
    }
  }
}
console.log("sidecar CPU per request, µs (one value per round)");
for (const [key, values] of Object.entries(results)) {
  console.log(`${key.padEnd(40)} ${values.join(", ")}`);
}
await Deno.remove(dir, { recursive: true });
