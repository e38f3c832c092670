/**
 * `deno task demo` end to end, as a user runs it: the story on real pods, then its kubeconfig
 * while it keeps running (nodes, the app pod through kubectl exec and logs, the app's view
 * through its sidecar, the members through the hub), then Ctrl-C. Needs root, like the demo.
 */
import { assert, assertEquals, assertStringIncludes } from "../_utils/assert.ts";
import { runCommand } from "../_utils/run_command.ts";
import { tempDir } from "../_utils/temp_dir.ts";
import { kubectlPath } from "../../src/testenv/mod.ts";
import { waitFor } from "../../src/common/mod.ts";

const DEMO = new URL("../../scripts/demo.ts", import.meta.url).pathname;

Deno.test({
  name:
    "deno task demo: the story on real pods, checked on each cluster; kubectl exec, logs, the app's view and the hub through its kubeconfig; Ctrl-C stops everything",
  // The demo's output streams are read until it exits; everything it starts, it stops.
  sanitizeResources: false,
  fn: async () => {
    await using temp = await tempDir();
    const dir = `${temp.path}/demo`;
    const demo = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", "--quiet", DEMO, "--dir", dir],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stdout = collect(demo.stdout);
    const stderr = collect(demo.stderr);
    let exited = false;
    const status = demo.status.finally(() => exited = true);
    try {
      await waitFor(() => stdout.text.includes("Press Ctrl-C") || exited, {
        timeoutMs: 600_000,
        intervalMs: 500,
        description: "the demo to tell its story",
      });
      assert(
        !exited,
        `the demo exited before the end of its story:\n${stdout.text}\n${stderr.text}`,
      );
      const story = stdout.text;
      for (
        const line of [
          "host: node host-node Ready",
          "east: node east-node Ready",
          "mca-webhook: 2/2 pods ready",
          "mca-hub: 2/2 pods ready",
          `east │ Cluster "east" is connected`,
          `west │ Cluster "west" is connected`,
          "east: pod mca-agent-",
          "on node east-node",
          'The webhook injected the native sidecar "mca-proxy"',
          "[app] listed 3 ConfigMaps",
          "CREATE ConfigMap shop/order-1001 → east",
          "app → sidecar → hub → east's agent → east, as mca:host:system:serviceaccount:shop:inventory",
          "LIST ConfigMaps in shop: merged from host, east, west",
          "✓ order-1001 is in east only",
          "✓ order-1002 is in west only",
          "✓ order-1003 is in host only",
        ]
      ) {
        assertStringIncludes(story, line);
      }
      const kubeconfig = /export KUBECONFIG=(\S+)/.exec(story)?.[1];
      assert(kubeconfig, "the demo prints its kubeconfig");
      const kubectl = async (args: string[]) => {
        const result = await runCommand(await kubectlPath(), [
          `--kubeconfig=${kubeconfig}`,
          ...args,
        ]);
        assertEquals(result.code, 0, `kubectl ${args.join(" ")}: ${result.stderr}`);
        return result.stdout;
      };

      // A Ready node per cluster; the agents on the members' nodes.
      for (const cluster of ["host", "east", "west"]) {
        const nodes = JSON.parse(
          await kubectl(["--context", cluster, "get", "nodes", "-o", "json"]),
        );
        assertEquals(nodes.items.length, 1, cluster);
        const ready = nodes.items[0].status.conditions.find((c: { type: string }) =>
          c.type === "Ready"
        );
        assertEquals(ready.status, "True", `${cluster}'s node is Ready`);
        if (cluster === "host") continue;
        const agents = JSON.parse(
          await kubectl(["--context", cluster, "get", "pods", "-n", "mca-agent", "-o", "json"]),
        );
        assertEquals(
          agents.items.map((p: PodJson) => [p.status.phase, p.spec.nodeName]),
          [["Running", `${cluster}-node`]],
        );
      }

      // The app pod: injected, Running, and reachable with kubectl exec and logs.
      const pod = JSON.parse(
        await kubectl(["--context", "host", "get", "pod", "inventory", "-n", "shop", "-o", "json"]),
      ) as PodJson;
      assertEquals(pod.status.phase, "Running");
      assertEquals(
        pod.spec.initContainers?.map((c) => [c.name, c.restartPolicy]),
        [["mca-proxy", "Always"]],
      );
      const exec = ["--context", "host", "exec", "inventory", "-n", "shop", "-c", "app", "--"];
      assertEquals(
        await kubectl([
          ...exec,
          "deno",
          "eval",
          "console.log(Deno.env.get('KUBERNETES_SERVICE_HOST'))",
        ]),
        "127.0.0.1\n",
      );
      const logs = ["--context", "host", "logs", "inventory", "-n", "shop", "-c", "app"];
      assertStringIncludes(await kubectl(logs), "[app] read order-1001 by name: quantity 3");

      // The app's view through its sidecar merges the three clusters; east through the hub.
      const seen = JSON.parse(
        await kubectl([
          "--context",
          "app",
          "get",
          "configmaps",
          "-l",
          "app=inventory",
          "-o",
          "json",
        ]),
      ) as { items: { metadata: { name: string; annotations: Record<string, string> } }[] };
      assertEquals(
        seen.items.map((i) => [i.metadata.name, i.metadata.annotations["mca.k8s.io/cluster"]])
          .sort(),
        [["order-1001", "east"], ["order-1002", "west"], ["order-1003", "host"]],
      );
      assertEquals(
        await kubectl([
          "--context",
          "hub-east",
          "get",
          "configmap",
          "order-1001",
          "-n",
          "shop",
          "-o",
          "name",
        ]),
        "configmap/order-1001\n",
      );

      // East through host's API server: the aggregated entrance, then the hub and its agent.
      assertEquals(
        await kubectl([
          "--context",
          "host-api-east",
          "get",
          "configmap",
          "order-1001",
          "-n",
          "shop",
          "-o",
          "name",
        ]),
        "configmap/order-1001\n",
      );

      // A ConfigMap made on west reaches the running app's merged watch, in its log.
      await kubectl(["--context", "west", "create", "configmap", "order-2001", "-n", "shop"]);
      await waitFor(
        async () => (await kubectl(logs)).includes("ADDED ConfigMap order-2001 in cluster west"),
        {
          description: "the app to see order-2001",
        },
      );
    } finally {
      if (!exited) demo.kill("SIGINT");
    }
    assertEquals((await status).code, 0, `the demo's exit after Ctrl-C:\n${stderr.text}`);
    assertStringIncludes(stderr.text, "Stopping...");
    // Stopped means stopped: no process of the demo is left.
    const left = await runCommand("pgrep", ["-f", dir]);
    assertEquals(left.stdout, "", "processes left");
  },
});

interface PodJson {
  spec: { nodeName?: string; initContainers?: { name: string; restartPolicy?: string }[] };
  status: { phase: string };
}

/** Decodes a stream as it comes; `text` grows until the stream ends. */
function collect(stream: ReadableStream<Uint8Array>): { text: string } {
  const sink = { text: "" };
  (async () => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) sink.text += chunk;
  })();
  return sink;
}
