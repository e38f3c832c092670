/** `deno task bench`: every benchmark, side by side, ratios to the first row of each table. */
import { formatTable } from "./_report.ts";
import { startupBench } from "./startup_bench.ts";

const only = Deno.args[0];
const benches: [string, () => Promise<import("./_report.ts").Row[]>][] = [
  ["startup", startupBench],
];
for (const [name, bench] of benches) {
  if (only && only !== name) continue;
  console.log(formatTable(`${name} (ratios to the first row)`, await bench()) + "\n");
}
