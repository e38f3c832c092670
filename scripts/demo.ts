/**
 * `deno task demo`: mca end to end on three local clusters with real nodes (root). Installs mca
 * as an operator would (the Helm chart on the host, `mca agent install` for each member), runs
 * a single-cluster app whose pod the webhook injects; tells what happened, checked on each
 * cluster; then keeps everything running with a kubeconfig to explore until Ctrl-C.
 *
 *   --exit       stop after the story (CI and tests)
 *   --dir <dir>  working folder (default .cache/demo; emptied at start)
 */
import { stopOnSignal } from "./_until_interrupted.ts";
import { APP_POD } from "./demo/app_pod.ts";
import { APP_NAMESPACE } from "./demo/demo_objects.ts";
import { runDemo, type RunningDemo } from "./demo/run_demo.ts";

const args = [...Deno.args];
const exitAfter = args.includes("--exit");
const dirIndex = args.indexOf("--dir");
const dir = dirIndex >= 0 ? args[dirIndex + 1] : `${Deno.cwd()}/.cache/demo`;
if (!dir || args.some((arg) => arg.startsWith("-") && !["--exit", "--dir"].includes(arg))) {
  console.error("Usage: deno task demo [--exit] [--dir <folder>]");
  Deno.exit(2);
}
if (Deno.uid() !== 0) {
  console.error(
    "The demo runs a real node per cluster (containerd, kubelet, network namespaces, iptables " +
      "rules) and needs root: run it as root, e.g. sudo scripts/deno task demo",
  );
  Deno.exit(2);
}

await resetDir(dir);
const say = (line: string) => console.log(line);
say("mca demo: an unmodified single-cluster app, working across three clusters, on real pods.");
let demo: RunningDemo;
try {
  demo = await runDemo({ dir, say });
} catch (error) {
  console.error(`\nThe demo failed: ${(error as Error).message}`);
  console.error(`Logs of the clusters and nodes are in ${dir}/clusters`);
  Deno.exit(1);
}

if (exitAfter) {
  await demo.stop();
  say("\nDemo complete; everything stopped.");
  Deno.exit(0);
}

const width = Math.max(...demo.contexts.map((c) => c.name.length));
const serverWidth = Math.max(...demo.contexts.map((c) => c.server.length));
say(`
Everything keeps running. The kubeconfig (contexts, and what each one reaches):
${
  demo.contexts.map((c) => `  ${c.name.padEnd(width)}  ${c.server.padEnd(serverWidth)}  ${c.what}`)
    .join("\n")
}

Look around with kubectl:
  export KUBECONFIG=${demo.kubeconfig}
  kubectl --context host get nodes,pods -A -o wide    # a Ready node; mca's and the app's pods
  kubectl --context east get pods -n mca-agent -o wide # east's agent, on east's node
  kubectl --context host get clusters                 # the members as the hub reports them
  kubectl --context app get configmaps                # the app's view through its sidecar: all clusters
  kubectl --context hub-west get configmaps -n ${APP_NAMESPACE}   # west through the hub and west's agent
  kubectl --context host-api-east get configmaps -n ${APP_NAMESPACE}   # east through host's API server
  kubectl --context host logs ${APP_POD} -n ${APP_NAMESPACE} -c mca-proxy    # the sidecar's routing decisions
  kubectl --context west create configmap order-2001 -n ${APP_NAMESPACE}     # the app's watch sees it:
  kubectl --context host logs ${APP_POD} -n ${APP_NAMESPACE} -c app --tail=1
  kubectl --context host exec ${APP_POD} -n ${APP_NAMESPACE} -c app -- deno eval 'console.log(Deno.env.toObject())'
Cluster and node logs: ${dir}/clusters
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
