/** `deno task bench [name]`: the benchmarks, side by side, with ratios to the first row where they mean something. */
import { type BenchResult, formatTable } from "./_report.ts";
import { entrancesBench } from "./entrances_bench.ts";
import { mergedBench } from "./merged_bench.ts";
import { podsBench } from "./pods_bench.ts";
import { proxyBench } from "./proxy_bench.ts";
import { startupBench } from "./startup_bench.ts";
import { testenvBench } from "./testenv_bench.ts";
import { tunnelBench } from "./tunnel_bench.ts";
import { webhookBench } from "./webhook_bench.ts";

const only = Deno.args[0];
const benches: [string, () => Promise<BenchResult | BenchResult[]>][] = [
  ["startup", startupBench],
  ["testenv", testenvBench],
  ["webhook", webhookBench],
  ["proxy", proxyBench],
  ["tunnel", tunnelBench],
  ["merged", mergedBench],
  ["pods", podsBench],
  ["entrances", entrancesBench],
];
if (only && !benches.some(([name]) => name === only)) {
  console.error(
    `Unknown benchmark "${only}" (benchmarks: ${benches.map(([name]) => name).join(", ")})`,
  );
  Deno.exit(2);
}
for (const [name, bench] of benches) {
  if (only && only !== name) continue;
  for (const result of [await bench()].flat()) {
    const title = result.title ? `${name}: ${result.title}` : name;
    console.log(
      formatTable(result.ratios ? `${title} (ratios to the first row)` : title, result) + "\n",
    );
  }
}
