/** Merged reads through `mca proxy` against three real API servers (home = host, east, west). */
import { KubeConfig, makeInformer, type V1ConfigMap } from "@kubernetes/client-node";
import { assert, assertEquals, assertStringIncludes } from "../../_utils/assert.ts";
import { e2eTest, kubectl, kubectlOk, uniqueName } from "../../_utils/e2e.ts";
import { tempDir } from "../../_utils/temp_dir.ts";
import { startMergedProxy } from "../../_utils/merged_proxy.ts";
import { unreachableKubeconfig } from "../../_utils/sidecar_proxy.ts";
import { kubectlPath } from "../../../src/testenv/mod.ts";
import { waitFor } from "../../../src/common/mod.ts";

e2eTest(
  "merged LIST, WATCH, Table and informers see every cluster; writes go back to the source",
  async (env) => {
    await using dir = await tempDir();
    const down = await dir.write("down.kubeconfig", unreachableKubeconfig());
    const merged = await startMergedProxy(env, dir.path, {
      clusters: `  down: {kubeconfig: ${down}, context: down, timeout: 2s}`,
      routes: `- name: secrets-strict
  match: {resources: [secrets]}
  clusters: [east, down]
- name: services-degraded
  match: {resources: [services]}
  clusters: [east, down]
  degraded: true`,
    });
    const { proxy, ns, clusters } = merged;
    try {
      for (const cluster of clusters) {
        await kubectlOk(cluster, ["create", "configmap", `from-${cluster.name}`, "-n", ns]);
      }
      const home = "home";
      const nameOf = (cluster: string) => cluster === home ? "host" : cluster;

      // kubectl's table output: every cluster's objects, with their cluster.
      const table = await kubectlOk(proxy.kubeconfigPath, ["get", "configmaps", "-n", ns]);
      for (const [cluster, name] of [["home", "host"], ["east", "east"], ["west", "west"]]) {
        assert(
          new RegExp(`from-${name}\\s+${cluster}\\s`).test(table),
          `the table shows from-${name} in ${cluster}:\n${table}`,
        );
      }
      assertStringIncludes(table, "CLUSTER");

      // The same name in two clusters is shown twice, with a warning for name-keyed clients.
      const twins = uniqueName("twins");
      for (const cluster of [env.cluster("east"), env.cluster("west")]) {
        await kubectlOk(cluster, ["create", "namespace", twins]);
        await kubectlOk(cluster, ["create", "configmap", "twin", "-n", twins]);
      }
      const twinTable = await kubectl(proxy.kubeconfigPath, ["get", "configmaps", "-n", twins]);
      assertEquals(twinTable.stdout.match(/^twin\s/gm)?.length, 2, twinTable.stdout);
      assertStringIncludes(twinTable.stderr, `${twins}/twin in east, west`);

      // A cluster that fails fails the merged read, named; a degraded route answers without it.
      const strict = await kubectl(proxy.kubeconfigPath, ["get", "secrets", "-n", ns]);
      assertEquals(strict.code, 1);
      assertStringIncludes(strict.stderr, 'Cluster "down"');
      const degraded = await kubectl(proxy.kubeconfigPath, ["get", "services", "-n", ns]);
      assertEquals(degraded.code, 0, degraded.stderr);
      assertStringIncludes(degraded.stderr, "answered without down");

      // JSON: each item names its source; the list carries a merged version.
      const list = JSON.parse(
        await kubectlOk(proxy.kubeconfigPath, ["get", "configmaps", "-n", ns, "-o", "json"]),
      );
      const sources = list.items.map((
        item: { metadata: { name: string; annotations: Record<string, string> } },
      ) => `${item.metadata.name}@${item.metadata.annotations["mca.k8s.io/cluster"]}`).sort();
      assertEquals(sources.filter((s: string) => s.startsWith("from-")), [
        "from-east@east",
        "from-host@home",
        "from-west@west",
      ]);
      // (kubectl prints a List of its own; the proxy's answer carries the merged version.)
      const client = Deno.createHttpClient({ caCerts: [proxy.caPem] });
      const watchClient = Deno.createHttpClient({ caCerts: [proxy.caPem] });
      const raw = await fetch(`${proxy.url}/api/v1/namespaces/${ns}/configmaps`, {
        headers: { Authorization: `Bearer ${proxy.token}` },
        client,
      }).then((r) => r.json());
      client.close();
      assert(
        String(raw.metadata.resourceVersion).startsWith("mca1."),
        raw.metadata.resourceVersion,
      );

      // Watch-list: the initial phase ends once, after every cluster's initial objects.
      const watchList = await fetch(
        `${proxy.url}/api/v1/namespaces/${ns}/configmaps?watch=true&sendInitialEvents=true&` +
          "allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan",
        { headers: { Authorization: `Bearer ${proxy.token}` }, client: watchClient },
      );
      const events: { type: string; object: { metadata: Record<string, unknown> } }[] = [];
      let buffered = "";
      const decoder = new TextDecoder();
      for await (const chunk of watchList.body!) {
        buffered += decoder.decode(chunk, { stream: true });
        const lines = buffered.split("\n");
        buffered = lines.pop()!;
        events.push(...lines.filter(Boolean).map((line) => JSON.parse(line)));
        if (events.some((e) => isInitialEnd(e))) break;
      }
      await watchList.body!.cancel().catch(() => {});
      watchClient.close();
      const ends = events.filter(isInitialEnd);
      assertEquals(ends.length, 1);
      const before = events.slice(0, events.indexOf(ends[0]!)).map((e) => e.object.metadata.name);
      for (const name of ["from-host", "from-east", "from-west"]) assert(before.includes(name));

      // An update of an object from the merged list lands in its own cluster, without our marks.
      const fromWest = list.items.find((i: { metadata: { name: string } }) =>
        i.metadata.name === "from-west"
      );
      fromWest.data = { updated: "yes" };
      await kubectlOk(proxy.kubeconfigPath, ["replace", "-f", "-"], {
        stdin: JSON.stringify(fromWest),
      });
      const stored = JSON.parse(
        await kubectlOk(env.cluster("west"), [
          "get",
          "configmap",
          "from-west",
          "-n",
          ns,
          "-o",
          "json",
        ]),
      );
      assertEquals(stored.data, { updated: "yes" });
      assertEquals(stored.metadata.annotations?.["mca.k8s.io/cluster"], undefined);

      // A watch through the proxy sees creates in any cluster promptly.
      const watcher = new Deno.Command(await kubectlPath(), {
        args: [
          `--kubeconfig=${proxy.kubeconfigPath}`,
          "get",
          "configmaps",
          "-n",
          ns,
          "--watch",
          "-o",
          "name",
        ],
        stdout: "piped",
        stderr: "null",
      }).spawn();
      let seen = "";
      const reading = (async () => {
        for await (const text of watcher.stdout.pipeThrough(new TextDecoderStream())) seen += text;
      })();
      try {
        await waitFor(() => seen.includes("configmap/from-west"), {
          description: "the watch's initial list",
        });
        for (const cluster of clusters) {
          await kubectlOk(cluster, ["create", "configmap", `late-${cluster.name}`, "-n", ns]);
          await waitFor(() => seen.includes(`configmap/late-${cluster.name}`), {
            timeoutMs: 5_000,
            description: `the watch to show late-${cluster.name}`,
          });
        }
      } finally {
        watcher.kill();
        await watcher.status;
        await reading;
      }

      // A client-node informer converges to the union, and sees updates and deletes.
      const config = new KubeConfig();
      config.loadFromFile(proxy.kubeconfigPath);
      const { CoreV1Api } = await import("@kubernetes/client-node");
      const core = config.makeApiClient(CoreV1Api);
      const informer = makeInformer<V1ConfigMap>(
        config,
        `/api/v1/namespaces/${ns}/configmaps`,
        () => core.listNamespacedConfigMap({ namespace: ns }),
      );
      await informer.start();
      try {
        const names = () =>
          informer.list().map((cm) =>
            `${cm.metadata?.name}@${cm.metadata?.annotations?.["mca.k8s.io/cluster"]}`
          ).sort();
        await waitFor(() => names().filter((n) => n.startsWith("late-")).length === 3, {
          description: "the informer to hold every cluster's objects",
        });
        await kubectlOk(env.cluster("east"), ["delete", "configmap", "late-east", "-n", ns]);
        await kubectlOk(env.cluster("host"), ["label", "configmap", "late-host", "-n", ns, "x=1"]);
        await waitFor(
          () =>
            !names().includes("late-east@east") &&
            informer.list().some((cm) =>
              cm.metadata?.name === "late-host" && cm.metadata.labels?.x === "1"
            ),
          { description: "the informer to see the delete in east and the update in host" },
        );
      } finally {
        await informer.stop();
      }

      // Pagination over 3 × 500 objects returns each object exactly once.
      const bulk = uniqueName("bulk");
      await Promise.all(clusters.map(async (cluster) => {
        await kubectlOk(cluster, ["create", "namespace", bulk]);
        for (let i = 0; i < 500; i += 50) {
          await Promise.all(
            Array.from(
              { length: 50 },
              (_, j) =>
                cluster.client.create(`/api/v1/namespaces/${bulk}/configmaps`, {
                  metadata: { name: `cm-${nameOf(cluster.name)}-${i + j}` },
                }),
            ),
          );
        }
      }));
      const paged = await kubectlOk(proxy.kubeconfigPath, [
        "get",
        "configmaps",
        "-n",
        bulk,
        "--chunk-size=170",
        "-o",
        'jsonpath={range .items[*]}{.metadata.name}@{.metadata.annotations.mca\\.k8s\\.io/cluster}{"\\n"}{end}',
      ]);
      const rows = paged.trim().split("\n").filter((row) => row.startsWith("cm-"));
      assertEquals(rows.length, 1500);
      assertEquals(new Set(rows).size, 1500);

      // The whole list at once is large enough to be gzipped, as kube-apiserver would, and
      // kubectl (client-go) reads it; a client that does not accept gzip gets plain JSON.
      const whole = JSON.parse(
        await kubectlOk(proxy.kubeconfigPath, [
          "get",
          "configmaps",
          "-n",
          bulk,
          "--chunk-size=0",
          "-o",
          "json",
        ]),
      );
      assertEquals(
        whole.items.filter((i: { metadata: { name: string } }) => i.metadata.name.startsWith("cm-"))
          .length,
        1500,
      );
      const bulkClient = Deno.createHttpClient({ caCerts: [proxy.caPem] });
      try {
        for (const encoding of ["gzip", "identity"]) {
          const response = await fetch(`${proxy.url}/api/v1/namespaces/${bulk}/configmaps`, {
            headers: { Authorization: `Bearer ${proxy.token}`, "Accept-Encoding": encoding },
            client: bulkClient,
          });
          assertEquals(
            response.headers.get("content-encoding"),
            encoding === "gzip" ? "gzip" : null,
          );
          const body = await response.json();
          assertEquals(body.items.length, 1500);
          assert(String(body.metadata.resourceVersion).startsWith("mca1."));
        }
      } finally {
        bulkClient.close();
      }
    } finally {
      await merged.stop();
    }
  },
);

function isInitialEnd(event: { type: string; object: { metadata: Record<string, unknown> } }) {
  const annotations = event.object.metadata.annotations as Record<string, string> | undefined;
  return event.type === "BOOKMARK" && annotations?.["k8s.io/initial-events-end"] === "true";
}
