/**
 * Start-up time and idle resident memory of mca processes, side by side in one run:
 * an empty Deno process, `mca version`, a kubeconfig loaded with mca's kube module, and the
 * same with @kubernetes/client-node. Each variant runs several times; medians are reported.
 */
import { createTestPki } from "../tests/_utils/test_pki.ts";
import { startHttpsRecorder } from "../tests/_utils/https_recorder.ts";
import { type BenchResult, median, type Row } from "./_report.ts";

const RUNS = Number(Deno.env.get("MCA_BENCH_RUNS") ?? 5);

/** One measured start: time until the child prints "ready", and its resident memory then. */
async function measure(script: string, args: string[]): Promise<{ ms: number; rssMiB: number }> {
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--quiet", new URL(script, import.meta.url).pathname, ...args],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let output = "";
  while (!output.includes("ready")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`${script} exited before it was ready: ${output}`);
    output += value;
  }
  const ms = performance.now() - started;
  const status = await Deno.readTextFile(`/proc/${child.pid}/status`);
  const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  await child.stdin.close();
  reader.releaseLock();
  await child.stdout.cancel().catch(() => {});
  await child.status;
  return { ms, rssMiB: rssKiB / 1024 };
}

/** Runs the start-up benchmark and returns its rows. */
export async function startupBench(): Promise<BenchResult> {
  const pki = await createTestPki();
  const server = await startHttpsRecorder(
    pki,
    () => ({ body: '{"major":"1","minor":"34","gitVersion":"v1.34.1"}' }),
  );
  const dir = await Deno.makeTempDir({ prefix: "mca-bench-" });
  const kubeconfig = `${dir}/config`;
  await Deno.writeTextFile(
    kubeconfig,
    JSON.stringify({
      apiVersion: "v1",
      kind: "Config",
      "current-context": "bench",
      clusters: [{
        name: "bench",
        cluster: { server: server.url, "certificate-authority-data": btoa(pki.ca.certificatePem) },
      }],
      users: [{ name: "bench", user: { token: "bench-token" } }],
      contexts: [{ name: "bench", context: { cluster: "bench", user: "bench" } }],
    }),
  );
  const variants: [string, string, string[]][] = [
    ["empty Deno process", "./startup/baseline.ts", []],
    ["mca version", "./startup/version.ts", []],
    ["kubeconfig + GET, mca kube module", "./startup/ours.ts", [kubeconfig]],
    ["kubeconfig + GET, @kubernetes/client-node", "./startup/client_node.ts", [kubeconfig]],
  ];
  const rows: Row[] = [];
  try {
    for (const [name, script, args] of variants) {
      await measure(script, args); // warm the module cache
      const samples = [];
      for (let i = 0; i < RUNS; i++) samples.push(await measure(script, args));
      rows.push({
        name,
        values: {
          "start-up ms (p50)": median(samples.map((s) => s.ms)),
          "idle RSS MiB (p50)": median(samples.map((s) => s.rssMiB)),
        },
      });
    }
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
  return { rows, ratios: true };
}
