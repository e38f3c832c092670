/**
 * Merged watches through `mca proxy` with the Python `kubernetes` client, kubectl and raw
 * requests against host, east and west: resumption, every representation kube-apiserver
 * serves, boolean query spellings, and a cluster that comes back to a degraded watch.
 */
import { assert, assertEquals, assertStringIncludes } from "../../_utils/assert.ts";
import { e2eTest, kubectlOk } from "../../_utils/e2e.ts";
import { tempDir } from "../../_utils/temp_dir.ts";
import { startMergedProxy } from "../../_utils/merged_proxy.ts";
import {
  PYTHON_CLIENT,
  pythonWithKubernetes,
  runClient,
  startClient,
} from "../../_utils/real_clients.ts";
import { freePort, kubectlPath } from "../../../src/testenv/mod.ts";
import { renderKubeconfig } from "../../../src/kube/mod.ts";
import { tcpRelay } from "../../_utils/tcp_relay.ts";
import { REJOIN_INTERVAL_MS } from "../../../src/proxy/merge/merged_watch.ts";

const configMap = (name: string) => ({ metadata: { name } });

e2eTest(
  "the Python client watches a merged route and resumes from its resource_version in every cluster",
  async (env) => {
    await using dir = await tempDir();
    const merged = await startMergedProxy(env, dir.path);
    const { ns } = merged;
    const [host, east, west] = merged.clusters;
    const python = await pythonWithKubernetes();
    try {
      await host!.client.create(`/api/v1/namespaces/${ns}/configmaps`, configMap("p-host"));
      await east!.client.create(`/api/v1/namespaces/${ns}/configmaps`, configMap("p-east"));
      // watch.stream() sends watch=True: a watch, whatever the spelling.
      const first = await runClient(python, [
        PYTHON_CLIENT,
        merged.proxy.kubeconfigPath,
        "watch",
        ns,
        "3",
      ]);
      assertStringIncludes(first, "ADDED p-host@home");
      assertStringIncludes(first, "ADDED p-east@east");
      const resumeFrom = first.match(/^resume-from (\S+)$/m)?.[1];
      assert(resumeFrom && resumeFrom !== "None", first);

      await west!.client.create(`/api/v1/namespaces/${ns}/configmaps`, configMap("p-west"));
      await kubectlOk(east!, ["label", "configmap", "p-east", "-n", ns, "changed=yes"]);
      await kubectlOk(host!, ["delete", "configmap", "p-host", "-n", ns]);

      const resumed = await runClient(python, [
        PYTHON_CLIENT,
        merged.proxy.kubeconfigPath,
        "watch",
        ns,
        "3",
        resumeFrom,
      ]);
      for (const change of ["ADDED p-west@west", "MODIFIED p-east@east", "DELETED p-host@home"]) {
        assertStringIncludes(resumed, change);
      }
      assert(!resumed.includes("ADDED p-east"), resumed);
    } finally {
      await merged.stop();
    }
  },
);

e2eTest(
  "kubectl get -w on a merged route: one header, and every row with its CLUSTER",
  async (env) => {
    await using dir = await tempDir();
    const merged = await startMergedProxy(env, dir.path);
    const { ns } = merged;
    await env.cluster("east").client.create(
      `/api/v1/namespaces/${ns}/configmaps`,
      configMap("w-a"),
    );
    const watcher = startClient(await kubectlPath(), [
      `--kubeconfig=${merged.proxy.kubeconfigPath}`,
      "get",
      "configmaps",
      "-n",
      ns,
      "--watch",
    ], { stopWith: "signal" });
    try {
      await watcher.waitFor((out) => /^w-a\s+east\s/m.test(out), "the listed row");
      for (const cluster of merged.clusters) {
        await cluster.client.create(
          `/api/v1/namespaces/${ns}/configmaps`,
          configMap(`late-${cluster.name}`),
        );
      }
      for (const [name, cluster] of [["host", "home"], ["east", "east"], ["west", "west"]]) {
        await watcher.waitFor(
          (out) => new RegExp(`^late-${name}\\s+${cluster}\\s+0\\s`, "m").test(out),
          `the watched row of late-${name} with its cluster`,
        );
      }
      const headers = watcher.output().split("\n").filter((line) => line.startsWith("NAME"));
      assertEquals(headers.length, 1, watcher.output());
      assert(/^NAME\s+CLUSTER\s+DATA\s+AGE$/.test(headers[0]!), headers[0]);
    } finally {
      await watcher.stop();
      await merged.stop();
    }
  },
);

e2eTest(
  "merged LIST and WATCH answer every representation kube-apiserver serves, and every watch spelling",
  async (env) => {
    await using dir = await tempDir();
    const merged = await startMergedProxy(env, dir.path);
    const { ns } = merged;
    try {
      for (const cluster of merged.clusters) {
        await cluster.client.create(`/api/v1/namespaces/${ns}/configmaps`, {
          metadata: { name: `r-${cluster.name}` },
          data: { secret: "not in metadata" },
        });
      }
      const path = `/api/v1/namespaces/${ns}/configmaps`;
      const read = async (query: string, accept: string) => {
        const response = await merged.request(path + query, { headers: { Accept: accept } });
        // A watch never ends by itself: its first event is enough.
        const text = /watch=(?!False|0)/.test(query)
          ? await readUntil(response, (t) => t.includes("\n"))
          : await response.text();
        return { status: response.status, type: response.headers.get("content-type"), text };
      };
      const META = "g=meta.k8s.io;v=v1";
      // PartialObjectMetadataList / PartialObjectMetadata: metadata only, marked.
      const metaList = await read(
        "",
        `application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;${META},application/json;as=PartialObjectMetadataList;${META},application/json`,
      );
      const list = JSON.parse(metaList.text);
      assertEquals(list.kind, "PartialObjectMetadataList");
      assertEquals(list.items.length, 3);
      assert(!metaList.text.includes("not in metadata"));
      const metaWatch = await read(
        "?watch=true",
        `application/json;as=PartialObjectMetadata;${META},application/json`,
      );
      const event = JSON.parse(metaWatch.text.split("\n")[0]!);
      assertEquals(event.object.kind, "PartialObjectMetadata");
      assert(event.object.metadata.annotations["mca.k8s.io/cluster"]);
      // Tables, without objects or with whole objects.
      const TABLE = `application/json;as=Table;${META},application/json`;
      const none = JSON.parse((await read("?includeObject=None", TABLE)).text);
      assertEquals(none.columnDefinitions[1].name, "Cluster");
      assertEquals(none.rows.length, 3);
      assert(!none.rows[0].object, JSON.stringify(none.rows[0]));
      const whole = JSON.parse((await read("?includeObject=Object", TABLE)).text);
      assertEquals(whole.rows[0].object.data, { secret: "not in metadata" });
      const tableWatch = await read("?watch=true&includeObject=Object", TABLE);
      const row = JSON.parse(tableWatch.text.split("\n")[0]!).object;
      assertEquals(row.kind, "Table");
      assertEquals(row.columnDefinitions[1].name, "Cluster");
      // Protobuf only: answered in JSON, which client-go reads; nothing JSON-like: 406.
      const protobuf = await read("", "application/vnd.kubernetes.protobuf");
      assertEquals([protobuf.status, protobuf.type], [200, "application/json"]);
      assertEquals(JSON.parse(protobuf.text).items.length, 3);
      assertEquals((await read("", "text/html")).status, 406);
      // Every spelling kube-apiserver reads as true is a watch; "false" and "0" are lists.
      for (const spelling of ["True", "1", "t", "yes", ""]) {
        const watched = await read(`?watch=${spelling}`, "application/json");
        assertEquals(watched.status, 200, spelling);
        assertEquals(JSON.parse(watched.text.split("\n")[0]!).type, "ADDED", spelling);
      }
      for (const spelling of ["False", "0"]) {
        const listed = await read(`?watch=${spelling}`, "application/json");
        assertEquals(JSON.parse(listed.text).kind, "ConfigMapList", spelling);
      }
    } finally {
      await merged.stop();
    }
  },
);

e2eTest(
  "a cluster that comes back joins a degraded merged watch within the rejoin interval",
  async (env) => {
    await using dir = await tempDir();
    const east = env.cluster("east");
    const eastUrl = new URL(east.url);
    const relay = tcpRelay(freePort(), { hostname: eastUrl.hostname, port: Number(eastUrl.port) });
    const flaky = await dir.write(
      "flaky.kubeconfig",
      renderKubeconfig([{
        name: "flaky",
        server: `https://127.0.0.1:${relay.port}`,
        caPem: east.caPem,
        user: { token: east.adminToken },
      }]),
    );
    const merged = await startMergedProxy(env, dir.path, {
      clusters: `  flaky: {kubeconfig: ${flaky}, context: flaky, timeout: 2s}`,
      routes: `- name: flaky-secrets
  match: {resources: [secrets]}
  clusters: [home, flaky]
  degraded: true`,
    });
    const { ns } = merged;
    const watcher = startClient(await kubectlPath(), [
      `--kubeconfig=${merged.proxy.kubeconfigPath}`,
      "get",
      "secrets",
      "-n",
      ns,
      "--watch",
      "--output-watch-events",
      "-o",
      "name",
    ], { stopWith: "signal" });
    try {
      await env.cluster("host").client.create(
        `/api/v1/namespaces/${ns}/secrets`,
        configMap("s-host"),
      );
      await watcher.waitFor((out) => out.includes("secret/s-host"), "the watch, without flaky");
      relay.start();
      const back = Date.now();
      await east.client.create(`/api/v1/namespaces/${ns}/secrets`, configMap("s-east"));
      await watcher.waitFor(
        (out) => out.includes("secret/s-east"),
        "flaky's events",
        REJOIN_INTERVAL_MS + 10_000,
      );
      assert(Date.now() - back < REJOIN_INTERVAL_MS + 10_000);
      assertStringIncludes(await merged.proxy.process.tail(100), "rejoined");
    } finally {
      relay.stop();
      await watcher.stop();
      await merged.stop();
    }
  },
);

/** Reads a response until `enough` says so (a watch never ends by itself), then cancels it. */
async function readUntil(response: Response, enough: (text: string) => boolean): Promise<string> {
  let text = "";
  for await (const chunk of response.body!.pipeThrough(new TextDecoderStream())) {
    text += chunk;
    if (enough(text)) break;
  }
  await response.body!.cancel().catch(() => {});
  return text;
}
