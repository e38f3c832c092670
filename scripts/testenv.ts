/**
 * `deno task testenv [--nodes]`: starts host, east and west clusters, writes one kubeconfig
 * with a context per cluster, and keeps them running until Ctrl-C. With --nodes (root), each
 * cluster also gets a real node (containerd, kubelet, kube-proxy), kube-controller-manager,
 * kube-scheduler and CoreDNS, and the locally built images; pods run.
 */
import { startTestEnv, type TestEnv } from "../src/testenv/mod.ts";
import { stopOnSignal } from "./_until_interrupted.ts";

const nodes = Deno.args.includes("--nodes");
const kubeconfig = `${Deno.cwd()}/.cache/testenv/kubeconfig`;
const started = Date.now();
const env = await startTestEnv({
  build: true,
  nodes,
  onProgress: (message) =>
    console.error(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${message}`),
});
await Deno.mkdir(`${Deno.cwd()}/.cache/testenv`, { recursive: true });
await Deno.copyFile(env.kubeconfigPath, kubeconfig);
await Deno.chmod(kubeconfig, 0o600);

console.log(`
Clusters are running:
${env.clusters.map((c) => `  ${c.name.padEnd(6)} ${c.url}   (log: ${c.logPath})`).join("\n")}
${nodes ? nodeSummary(env) : ""}
Use them with kubectl:
  export KUBECONFIG=${kubeconfig}
  kubectl get ${nodes ? "nodes" : "namespaces"}                 # context "${
  env.clusters[0]?.name
}" (current)
  kubectl --context east get ${nodes ? "pods -A" : "namespaces"}
${
  nodes
    ? `  kubectl run hello --image=${env.images?.deno.ref} --image-pull-policy=Never -- eval 'console.log("hello")'`
    : "\nNo controllers or kubelets run here: pods stay Pending (--nodes runs real nodes; see src/testenv/README.md)."
}

Kubeconfig (${kubeconfig}):
${await Deno.readTextFile(kubeconfig)}
Press Ctrl-C to stop and clean up.`);

stopOnSignal(async () => {
  await env.stop();
  await Deno.remove(kubeconfig).catch(() => {});
});

function nodeSummary(env: TestEnv): string {
  const lines = env.clusters.map((c) =>
    `  ${c.node?.name.padEnd(11)} ${
      c.node?.network.nodeIp.padEnd(12)
    } pods ${c.node?.network.podCidr}, ` +
    `Services ${c.node?.network.serviceCidr} (kubelet log: ${c.node?.logs.kubelet})`
  );
  const images = Object.values(env.images ?? {}).map((image) => `  ${image.ref}`);
  return `\nNodes (slot ${env.slot}; pods of any cluster reach the others' pods, Services and nodes):\n${
    lines.join("\n")
  }\n\nImages on every node (use imagePullPolicy: Never):\n${images.join("\n")}\n`;
}
