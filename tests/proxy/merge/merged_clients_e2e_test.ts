/**
 * Merged reads through `mca proxy` with client-go programs (tests/clients/go) against host,
 * east and west: what informers, metadata informers and watch-list with client-go's
 * consistency detector need from a merged LIST and WATCH.
 */
import { assert, assertEquals, assertStringIncludes } from "../../_utils/assert.ts";
import { e2eTest, kubectl, kubectlOk } from "../../_utils/e2e.ts";
import { tempDir } from "../../_utils/temp_dir.ts";
import { startMergedProxy } from "../../_utils/merged_proxy.ts";
import { clientGoBinary, startClient } from "../../_utils/real_clients.ts";
import { toHex } from "../../../src/bytes.ts";

const configMap = (name: string, data: Record<string, string> = {}) => ({
  metadata: { name },
  data,
});

e2eTest(
  "a client-go informer gets a 520 kB non-ASCII object from a merged watch byte for byte",
  async (env) => {
    await using dir = await tempDir();
    const merged = await startMergedProxy(env, dir.path);
    const informer = startClient(await clientGoBinary(), [
      merged.proxy.kubeconfigPath,
      "inform",
      merged.ns,
    ]);
    try {
      await informer.waitFor((out) => out.includes("state "), "the informer to sync");
      // Two-, three- and four-byte characters: the TLS records and chunks the event crosses
      // split some of them.
      const text = "Grüße, 世界! 😀 ".repeat(26_000);
      assert(new TextEncoder().encode(text).length > 520_000);
      const east = env.cluster("east");
      await east.client.create(`/api/v1/namespaces/${merged.ns}/configmaps`, {
        ...configMap("big", { v: text }),
      });
      const digest = toHex(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
      await informer.waitFor(
        (out) => out.includes(`big@east=sha256:${digest}`),
        "the informer to hold the object exactly as east has it",
      );
    } finally {
      await informer.stop();
      await merged.stop();
    }
  },
);

e2eTest(
  "a client-go metadata informer (PartialObjectMetadata) syncs and watches through a merged route",
  async (env) => {
    await using dir = await tempDir();
    const merged = await startMergedProxy(env, dir.path);
    const [, east, west] = merged.clusters;
    for (const cluster of merged.clusters) {
      await cluster.client.create(
        `/api/v1/namespaces/${merged.ns}/configmaps`,
        configMap(`a-${cluster.name}`),
      );
    }
    const informer = startClient(await clientGoBinary(), [
      merged.proxy.kubeconfigPath,
      "inform-metadata",
      merged.ns,
    ]);
    const state = (expected: string) =>
      informer.waitFor(
        (out) => out.split("\n").filter((l) => l.startsWith("state ")).at(-1) === expected,
        `the metadata informer to show "${expected}"`,
      );
    try {
      await state("state a-east@east a-host@home a-west@west");
      await west!.client.create(`/api/v1/namespaces/${merged.ns}/configmaps`, configMap("b"));
      await state("state a-east@east a-host@home a-west@west b@west");
      await kubectlOk(east!, ["delete", "configmap", "a-east", "-n", merged.ns]);
      await state("state a-host@home a-west@west b@west");
      // Its watch never failed: full objects where it asked for metadata make it relist after
      // every event, so the proxy would have served more than the one LIST.
      assert(!informer.output().includes("watch-error"), informer.output());
      const lists = (await merged.proxy.process.tail(1000)).match(/merged read verb="list"/g);
      assertEquals(lists?.length, 1, "the metadata informer listed once");
    } finally {
      await informer.stop();
      await merged.stop();
    }
  },
);

e2eTest(
  "watch-list with client-go's consistency detector: one resourceVersion per unchanged object",
  async (env) => {
    await using dir = await tempDir();
    const merged = await startMergedProxy(env, dir.path);
    const { ns } = merged;
    for (const cluster of merged.clusters) {
      await cluster.client.create(`/api/v1/namespaces/${ns}/configmaps`, {
        ...configMap(`a-${cluster.name}`, { v: "1" }),
      });
    }
    const informer = startClient(await clientGoBinary(), [
      merged.proxy.kubeconfigPath,
      "inform",
      ns,
    ], {
      env: { KUBE_FEATURE_WatchListClient: "true", KUBE_WATCHLIST_INCONSISTENCY_DETECTOR: "true" },
    });
    try {
      // The detector lists at the watch-list's final version and compares every object: it
      // panics on any difference, before the informer reports its first state.
      await informer.waitFor(
        (out) => out.includes("state a-east@east=1 a-host@home=1 a-west@west=1"),
        "the watch-list informer to sync",
      );
      assertStringIncludes(informer.output(), "data consistency check");
      await kubectlOk(env.cluster("west"), ["create", "configmap", "c", "-n", ns]);
      await informer.waitFor((out) => out.includes("c@west="), "the informer to see a change");
      assert(!informer.output().includes("inconsistency"), informer.output());

      // The same unchanged object has one resourceVersion in a merged LIST, a watch-list's
      // initial events and a GET (which this route sends to home, its first cluster): its
      // cluster's own.
      const own = JSON.parse(
        await kubectlOk(env.cluster("host"), ["get", "cm", "a-host", "-n", ns, "-o", "json"]),
      ).metadata.resourceVersion;
      const list = await (await merged.request(`/api/v1/namespaces/${ns}/configmaps`)).json();
      const listed = list.items.find((i: { metadata: { name: string } }) =>
        i.metadata.name === "a-host"
      );
      const got = await (await merged.request(`/api/v1/namespaces/${ns}/configmaps/a-host`)).json();
      const stream = await merged.request(
        `/api/v1/namespaces/${ns}/configmaps?watch=1&sendInitialEvents=true&` +
          `allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan`,
      );
      let text = "";
      for await (const chunk of stream.body!.pipeThrough(new TextDecoderStream())) {
        text += chunk;
        if (text.includes("k8s.io/initial-events-end")) break;
      }
      await stream.body!.cancel().catch(() => {});
      const watched = text.split("\n").filter(Boolean).map((line) => JSON.parse(line))
        .find((e) => e.object.metadata.name === "a-host");
      assertEquals(
        [
          listed.metadata.resourceVersion,
          watched.object.metadata.resourceVersion,
          got.metadata.resourceVersion,
        ],
        [own, own, own],
      );
    } finally {
      await informer.stop();
      await merged.stop();
    }
  },
);

e2eTest(
  "a client-go watch opened without a resourceVersion resumes in all three clusters",
  async (env) => {
    await using dir = await tempDir();
    const merged = await startMergedProxy(env, dir.path);
    const { ns } = merged;
    const [host, east, west] = merged.clusters;
    await host!.client.create(`/api/v1/namespaces/${ns}/configmaps`, configMap("r-host"));
    await east!.client.create(`/api/v1/namespaces/${ns}/configmaps`, configMap("r-east"));
    const clientGo = await clientGoBinary();
    try {
      // West has nothing yet: the first watch gets no event from it.
      const first = startClient(clientGo, [merged.proxy.kubeconfigPath, "watch", ns]);
      await first.waitFor(
        (out) => out.includes("ADDED r-host@home") && out.includes("ADDED r-east@east"),
        "the current objects",
      );
      await first.stop();
      const events = first.output().split("\n").filter((l) => /^(ADDED|MODIFIED|DELETED) /.test(l));
      const last = events.at(-1)!.split(" ")[2]!;

      // Changes in every cluster while nobody watches.
      await west!.client.create(`/api/v1/namespaces/${ns}/configmaps`, configMap("r-west"));
      await kubectlOk(east!, ["label", "configmap", "r-east", "-n", ns, "changed=yes"]);
      await kubectlOk(host!, ["delete", "configmap", "r-host", "-n", ns]);

      const resumed = startClient(clientGo, [merged.proxy.kubeconfigPath, "watch", ns, last]);
      await resumed.waitFor(
        (out) =>
          out.includes("ADDED r-west@west") && out.includes("MODIFIED r-east@east") &&
          out.includes("DELETED r-host@home"),
        `the changes after ${last} in every cluster`,
      );
      await resumed.stop();
      // Only the changes: what the first watch had seen is not sent again.
      assert(!resumed.output().includes("ADDED r-east"), resumed.output());

      // A version the proxy never issued cannot be resumed from: 410, and client-go says so.
      const unknown = startClient(clientGo, [merged.proxy.kubeconfigPath, "watch", ns, "1"]);
      await unknown.waitFor((out) => out.includes("ERROR 410 Expired"), "410 Gone");
      await unknown.stop();
    } finally {
      await merged.stop();
    }
  },
);

e2eTest(
  "writes of objects read through a merged LIST or a GET keep optimistic concurrency",
  async (env) => {
    await using dir = await tempDir();
    const merged = await startMergedProxy(env, dir.path);
    const { ns } = merged;
    const kubeconfig = merged.proxy.kubeconfigPath;
    const listed = async (name: string) =>
      JSON.parse(await kubectlOk(kubeconfig, ["get", "cm", "-n", ns, "-o", "json"])).items
        .find((item: { metadata: { name: string } }) => item.metadata.name === name);
    const got = async (name: string) =>
      JSON.parse(await kubectlOk(kubeconfig, ["get", "cm", name, "-n", ns, "-o", "json"]));
    const replace = (object: unknown) =>
      kubectl(kubeconfig, ["replace", "-f", "-"], { stdin: JSON.stringify(object) });
    try {
      // West's object read from merged LISTs; home's by GETs (the route sends them to home, its
      // first cluster).
      const cases = [
        [env.cluster("west"), "oc-west", listed],
        [env.cluster("host"), "oc-host", got],
      ] as const;
      for (const [cluster, name, read] of cases) {
        await cluster.client.create(`/api/v1/namespaces/${ns}/configmaps`, configMap(name));
        const stale = await read(name);
        await kubectlOk(cluster, ["label", "configmap", name, "-n", ns, "meanwhile=yes"]);
        // The copy read before the label is stale: replacing it conflicts, it overwrites nothing.
        stale.data = { v: "stale" };
        const refused = await replace(stale);
        assertEquals(refused.code, 1, refused.stdout);
        assertStringIncludes(refused.stderr, "the object has been modified");
        const fresh = await read(name);
        fresh.data = { v: "2" };
        const accepted = await replace(fresh);
        assertEquals(accepted.code, 0, accepted.stderr);
        const stored = JSON.parse(
          await kubectlOk(cluster, ["get", "cm", name, "-n", ns, "-o", "json"]),
        );
        assertEquals(stored.data, { v: "2" }, name);
        assertEquals(stored.metadata.labels, { meanwhile: "yes" }, name);
        assertEquals(stored.metadata.annotations?.["mca.k8s.io/cluster"], undefined, name);
      }
    } finally {
      await merged.stop();
    }
  },
);
