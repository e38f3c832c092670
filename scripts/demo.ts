/**
 * `deno task demo`: mca end to end on three local clusters. Starts host, east and west, the hub
 * and an agent per member, the webhook, and a single-cluster app whose pod the webhook injects;
 * tells what happened, checked on each cluster; then keeps everything running until Ctrl-C.
 *
 *   --exit       stop after the story (CI and tests)
 *   --dir <dir>  working folder (default .cache/demo; emptied at start)
 */
import { stopOnSignal } from "./_until_interrupted.ts";
import { runDemo } from "./demo/run_demo.ts";

const args = [...Deno.args];
const exitAfter = args.includes("--exit");
const dirIndex = args.indexOf("--dir");
const dir = dirIndex >= 0 ? args[dirIndex + 1] : `${Deno.cwd()}/.cache/demo`;
if (!dir || args.some((arg) => arg.startsWith("-") && !["--exit", "--dir"].includes(arg))) {
  console.error("Usage: deno task demo [--exit] [--dir <folder>]");
  Deno.exit(2);
}

await resetDir(dir);
const say = (line: string) => console.log(line);
say("mca demo: an unmodified single-cluster app, working across three clusters.");
let demo: Awaited<ReturnType<typeof runDemo>>;
try {
  demo = await runDemo({ dir, say });
} catch (error) {
  console.error(`\nThe demo failed: ${(error as Error).message}`);
  console.error(`Logs of every process are in ${dir}`);
  Deno.exit(1);
}

if (exitAfter) {
  await demo.stop();
  say("\nDemo complete; everything stopped.");
  Deno.exit(0);
}

say(`
Everything keeps running. Look around with kubectl:
  export KUBECONFIG=${demo.kubeconfig}
  kubectl --context app get configmaps              # the app's view through its sidecar: all clusters, CLUSTER column
  kubectl --context hub-east get configmaps -n shop # east through the hub and east's agent
  kubectl --context host get clusters               # the members as the hub reports them
  kubectl --context host get pod -n shop -o yaml    # the pod as the webhook injected it (Pending:
                                                    # no kubelet; the demo runs it as local processes)
  kubectl --context west get configmaps -n shop     # west's API server directly
Logs: ${dir}/*.log and ${dir}/*/*.log
Press Ctrl-C to stop and clean up.`);

stopOnSignal(() => demo.stop());

// The folder is the demo's alone: emptied only if an earlier demo made it (marker file).
async function resetDir(path: string) {
  const marker = `${path}/.mca-demo`;
  const exists = await Deno.stat(path).then(() => true, () => false);
  if (exists) {
    const ours = await Deno.stat(marker).then(() => true, () => false);
    if (!ours) {
      console.error(`Refusing to use "${path}": it exists and was not made by the demo`);
      Deno.exit(2);
    }
    await Deno.remove(path, { recursive: true });
  }
  await Deno.mkdir(path, { recursive: true });
  await Deno.writeTextFile(marker, "");
}
