/**
 * `deno task testenv`: starts host, east and west clusters, writes one kubeconfig with a
 * context per cluster, and keeps them running until Ctrl-C.
 */
import { startTestEnv } from "../src/testenv/mod.ts";
import { stopOnSignal } from "./_until_interrupted.ts";

const kubeconfig = `${Deno.cwd()}/.cache/testenv/kubeconfig`;
const env = await startTestEnv({ build: true, onProgress: (message) => console.error(message) });
await Deno.mkdir(`${Deno.cwd()}/.cache/testenv`, { recursive: true });
await Deno.copyFile(env.kubeconfigPath, kubeconfig);
await Deno.chmod(kubeconfig, 0o600);

console.log(`
Clusters are running:
${env.clusters.map((c) => `  ${c.name.padEnd(6)} ${c.url}   (log: ${c.logPath})`).join("\n")}

Use them with kubectl:
  export KUBECONFIG=${kubeconfig}
  kubectl get namespaces                 # context "${env.clusters[0]?.name}" (current)
  kubectl --context east get namespaces

No controllers or kubelets run here: pods stay Pending (see src/testenv/README.md).
Press Ctrl-C to stop and clean up.`);

stopOnSignal(async () => {
  await env.stop();
  await Deno.remove(kubeconfig).catch(() => {});
});
