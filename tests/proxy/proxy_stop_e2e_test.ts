/**
 * A stopping proxy (SIGTERM: the kubelet restarting the sidecar, say) ends the watches going
 * through it the way kube-apiserver ends a watch, at an event boundary, so that clients watch
 * again instead of seeing a broken stream; then it exits 0. JSON and protobuf watches of one
 * cluster, and a merged watch of two.
 */
import { assert, assertEquals, assertStringIncludes } from "../_utils/assert.ts";
import { e2eTest, kubectlOk, uniqueName } from "../_utils/e2e.ts";
import { startSidecarProxy } from "../_utils/sidecar_proxy.ts";
import { tempDir } from "../_utils/temp_dir.ts";
import { waitFor } from "../../src/common/mod.ts";

e2eTest(
  "SIGTERM ends JSON, protobuf and merged watches cleanly at once, and the proxy exits 0",
  async (env) => {
    await using dir = await tempDir("mca-proxy-stop-");
    // Secrets are merged across home and east; ConfigMaps come from home alone.
    const proxy = await startSidecarProxy(
      env,
      dir.path,
      JSON.stringify({
        clusters: { east: { kubeconfig: env.cluster("east").kubeconfigPath } },
        routes: [{ match: { resources: ["secrets"] }, clusters: ["home", "east"] }],
      }),
    );
    await kubectlOk(env.cluster("east"), ["create", "namespace", proxy.namespace]);
    const client = Deno.createHttpClient({ caCerts: [proxy.caPem] });
    const watch = async (accept: string, resource = "configmaps") => {
      const response = await fetch(
        `${proxy.url}/api/v1/namespaces/${proxy.namespace}/${resource}?watch=1`,
        { client, headers: { authorization: `Bearer ${proxy.token}`, accept } },
      );
      assertEquals(response.status, 200);
      const reader = response.body!.getReader();
      let received = new Uint8Array();
      const ended = (async () => {
        while (true) {
          const { value, done } = await reader.read();
          if (done) return "clean";
          received = new Uint8Array([...received, ...value]);
        }
      })().catch((error) => `broken: ${(error as Error).message}`);
      return { ended, received: () => received };
    };
    const json = await watch("application/json");
    const protobuf = await watch("application/vnd.kubernetes.protobuf;stream=watch");
    const merged = await watch("application/json", "secrets");
    for (let i = 0; i < 5; i++) {
      await kubectlOk(env.cluster("host"), [
        "create",
        "configmap",
        uniqueName("event"),
        "-n",
        proxy.namespace,
        "--from-literal=value=" + "x".repeat(20_000),
      ]);
    }
    for (const cluster of ["host", "east"]) {
      await kubectlOk(env.cluster(cluster), [
        "create",
        "secret",
        "generic",
        `in-${cluster}`,
        "-n",
        proxy.namespace,
      ]);
    }
    // Every watch has its events before the stop.
    await waitFor(() => new TextDecoder().decode(merged.received()).includes("in-east"), {
      description: "the merged events",
    });
    await waitFor(() => new TextDecoder().decode(json.received()).split("\n").length > 5, {
      description: "the JSON events",
    });
    await waitFor(() => protobuf.received().length > 5 * 20_000, {
      description: "the protobuf events",
    });

    const stopped = Date.now();
    const stopping = proxy.stop();
    assertEquals(await json.ended, "clean", "the JSON watch ended as a watch ends");
    assertEquals(await protobuf.ended, "clean", "the protobuf watch ended as a watch ends");
    assertEquals(await merged.ended, "clean", "the merged watch ended as a watch ends");
    assert(
      Date.now() - stopped < 2_000,
      `the watches ended ${Date.now() - stopped} ms after the stop`,
    );
    // Every event arrived whole: JSON lines parse; protobuf frames add up exactly.
    const lines = new TextDecoder().decode(json.received()).split("\n");
    assertEquals(lines.pop(), "", "the JSON stream ends with a newline");
    for (const line of lines) assertEquals(JSON.parse(line).type, "ADDED");
    const mergedLines = new TextDecoder().decode(merged.received()).split("\n");
    assertEquals(mergedLines.pop(), "", "the merged stream ends with a newline");
    for (const line of mergedLines) assert(JSON.parse(line).object.metadata.name);
    const frames = protobuf.received();
    let at = 0;
    while (at < frames.length) at += 4 + new DataView(frames.buffer, at, 4).getUint32(0);
    assertEquals(at, frames.length, "the protobuf stream ends after a whole frame");
    await stopping;
    assertEquals(await proxy.process.exited, 0);
    assertStringIncludes(await proxy.process.tail(5), "proxy stopped");
    client.close();
  },
);
