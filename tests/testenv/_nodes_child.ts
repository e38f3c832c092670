/**
 * Child process of nodes_teardown_test.ts: starts one cluster with a node, runs a pod in it,
 * prints one JSON line (the slot and the pod's container process) and waits to be killed.
 */
import { startTestEnv } from "../../src/testenv/mod.ts";
import { waitFor } from "../../src/common/mod.ts";
import { kubectlOk } from "../_utils/e2e.ts";

const env = await startTestEnv({ clusters: ["solo"], nodes: true });
const cluster = env.cluster("solo");
await kubectlOk(cluster, ["apply", "-f", "-"], {
  stdin: JSON.stringify({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "survivor", namespace: "default" },
    spec: {
      terminationGracePeriodSeconds: 30,
      containers: [{
        name: "survivor",
        image: env.images!.deno.ref,
        imagePullPolicy: "Never",
        args: ["eval", "setInterval(() => {}, 1 << 30)"],
        // A volume the kubelet mounts (tmpfs), so that a mount is left too.
        volumeMounts: [{ name: "scratch", mountPath: "/scratch" }],
      }],
      volumes: [{ name: "scratch", emptyDir: { medium: "Memory" } }],
    },
  }),
});
await waitFor(async () => {
  const pod = JSON.parse(await kubectlOk(cluster, ["get", "pod", "survivor", "-o", "json"]));
  return pod.status.phase === "Running";
}, { timeoutMs: 90_000, description: "the pod to run" });
console.log(JSON.stringify({ slot: env.slot, dir: env.dir }));
await new Promise(() => {});
