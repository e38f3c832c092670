/**
 * A client-go informer (SharedInformerFactory) through a merged route: it converges to the union
 * of three clusters, survives the proxy restarting, and relists after a real 410 (etcd compacted
 * while it was away). Own control planes: watches must come from etcd (no watch cache) for a
 * compaction to expire them.
 */
import { assert } from "../../_utils/assert.ts";
import { kubectlOk } from "../../_utils/e2e.ts";
import { tempDir } from "../../_utils/temp_dir.ts";
import { startMergedProxy } from "../../_utils/merged_proxy.ts";
import { clientGoBinary } from "../../_utils/real_clients.ts";
import { startTestEnv } from "../../../src/testenv/mod.ts";
import { waitFor } from "../../../src/common/mod.ts";

/** Compacts etcd at its current revision (through etcd's HTTP gateway). */
async function compactEtcd(etcdUrl: string): Promise<void> {
  const range = await fetch(`${etcdUrl}/v3/kv/range`, {
    method: "POST",
    body: JSON.stringify({ key: btoa("/") }),
  }).then((r) => r.json()) as { header: { revision: string } };
  const response = await fetch(`${etcdUrl}/v3/kv/compaction`, {
    method: "POST",
    body: JSON.stringify({ revision: range.header.revision, physical: true }),
  });
  if (!response.ok) throw new Error(`etcd compaction failed: ${await response.text()}`);
  await response.body?.cancel();
}

Deno.test({
  name:
    "a client-go informer through a merged route converges, survives restarts, relists; an expired merged watch ends with 410",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const env = await startTestEnv({ extraApiServerArgs: ["--watch-cache=false"] });
    await using dir = await tempDir();
    const merged = await startMergedProxy(env, dir.path);
    const { proxy, ns } = merged;
    const host = env.cluster("host");
    const east = env.cluster("east");
    const west = env.cluster("west");
    for (const cluster of [host, east, west]) {
      // Names are unique across the clusters: an informer keys its cache by namespace/name.
      await kubectlOk(cluster, [
        "create",
        "configmap",
        `a-${cluster.name}`,
        "-n",
        ns,
        "--from-literal=v=1",
      ]);
    }
    const proxyGet = (path: string) => merged.request(path).then((r) => r.text());
    const firstVersion =
      JSON.parse(await proxyGet(`/api/v1/namespaces/${ns}/configmaps`)).metadata.resourceVersion;
    const informer = new Deno.Command(await clientGoBinary(), {
      args: [proxy.kubeconfigPath, "inform", ns],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    let output = "";
    const collect = (stream: ReadableStream<Uint8Array>) =>
      (async () => {
        for await (const text of stream.pipeThrough(new TextDecoderStream())) output += text;
      })();
    const reading = [collect(informer.stdout), collect(informer.stderr)];
    const lastState = () => output.split("\n").filter((l) => l.startsWith("state ")).at(-1) ?? "";
    const converged = (expected: string, description: string) =>
      waitFor(() => lastState() === `state ${expected}`, { description, timeoutMs: 60_000 })
        .catch((error) => {
          throw new Error(`${error.message}\nlast: ${lastState()}\n${output.slice(-2000)}`);
        });
    try {
      await converged(
        "a-east@east=1 a-host@home=1 a-west@west=1",
        "the union of the three clusters",
      );

      // The proxy restarts (a container restart: same folders, same token and CA); meanwhile
      // west changes. The informer resumes from its merged version and sees the change.
      await proxy.process.stop();
      await kubectlOk(west, ["create", "configmap", "b", "-n", ns, "--from-literal=v=1"]);
      await proxy.restart();
      await converged(
        "a-east@east=1 a-host@home=1 a-west@west=1 b@west=1",
        "the change made during the restart",
      );

      // Away again, and etcd is compacted: resuming gets 410 Gone, the informer relists.
      await proxy.process.stop();
      await kubectlOk(east, ["delete", "configmap", "a-east", "-n", ns]);
      await kubectlOk(host, ["create", "configmap", "c", "-n", ns, "--from-literal=v=2"]);
      await kubectlOk(west, ["patch", "configmap", "b", "-n", ns, "-p", '{"data":{"v":"3"}}']);
      await compactEtcd(env.etcdUrl);
      await proxy.restart();
      await converged(
        "a-host@home=1 a-west@west=1 b@west=3 c@home=2",
        "the relist after the watch expired",
      );
      // The restarted proxy served the informer a fresh LIST: it relisted.
      assert(/merged read[^\n]*verb="?list/.test(await proxy.process.tail(200)));

      // A watch resumed from a version etcd no longer has ends with the API server's 410,
      // relayed as the merged watch's ERROR event (what makes any client relist).
      const expired = await proxyGet(
        `/api/v1/namespaces/${ns}/configmaps?watch=true&resourceVersion=${firstVersion}`,
      );
      assert(/"type":"ERROR"[^\n]*"code":410/.test(expired), expired);
      assert(/merged watch ended by a cluster's error[^\n]*410/.test(await proxy.process.tail(50)));
    } finally {
      await informer.stdin.close().catch(() => {});
      await informer.status;
      await Promise.all(reading);
      await merged.stop();
      await env.stop();
    }
  },
});
