/** `deno task bench`: every benchmark, side by side, ratios to the first row of each table. */
import { type BenchResult, formatTable } from "./_report.ts";
import { startupBench } from "./startup_bench.ts";
import { testenvBench } from "./testenv_bench.ts";
import { webhookBench } from "./webhook_bench.ts";

const only = Deno.args[0];
const benches: [string, () => Promise<BenchResult>][] = [
  ["startup", startupBench],
  ["testenv", testenvBench],
  ["webhook", webhookBench],
];
for (const [name, bench] of benches) {
  if (only && only !== name) continue;
  const result = await bench();
  console.log(
    formatTable(result.ratios ? `${name} (ratios to the first row)` : name, result) + "\n",
  );
}
