/** `mca proxy` as a sidecar in front of three real API servers, used by real clients. */
import { Buffer } from "node:buffer";
import https from "node:https";
import { gunzipSync } from "node:zlib";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { assert, assertEquals, assertStringIncludes } from "../_utils/assert.ts";
import { e2eTest, kubectl, kubectlOk, sharedFixture, uniqueName } from "../_utils/e2e.ts";
import { ECHO_STDIN, execEcho } from "../_utils/exec_echo.ts";
import { apply, oneShotPod, waitForPhase } from "../_utils/pods.ts";
import {
  clientGoBinary,
  PYTHON_CLIENT,
  pythonWithKubernetes,
  runClient,
} from "../_utils/real_clients.ts";
import {
  type SidecarProxy,
  startSidecarProxy,
  unreachableKubeconfig,
} from "../_utils/sidecar_proxy.ts";
import { tempDir } from "../_utils/temp_dir.ts";
import type { TestEnv } from "../../src/testenv/mod.ts";
import { waitFor } from "../../src/common/mod.ts";

interface Fixture {
  proxy: SidecarProxy;
  dir: string;
  /** A namespace that exists in host, east and west. */
  namespace: string;
}

/** One proxy for the whole file: east by label, west by namespace, "down" unreachable. */
const proxyFixture = sharedFixture("mca-proxy-e2e-", async (env, dir): Promise<Fixture> => {
  const down = `${dir}/down.kubeconfig`;
  await Deno.writeTextFile(down, unreachableKubeconfig());
  const config = `
clusters:
  east: {kubeconfig: ${env.cluster("east").kubeconfigPath}, context: east}
  west: {kubeconfig: ${env.cluster("west").kubeconfigPath}, context: west}
  down: {kubeconfig: ${down}, context: down, timeout: 2s}
routes:
- name: east-by-label
  match: {labels: "region=east"}
  cluster: east
- name: west-namespaces
  match: {namespaces: ["west-*"]}
  cluster: west
- name: down-namespaces
  match: {namespaces: ["down-*"]}
  cluster: down
`;
  const proxy = await startSidecarProxy(env, dir, config);
  const namespace = uniqueName("shop");
  for (const cluster of env.clusters) {
    await kubectlOk(cluster, ["create", "namespace", namespace]);
  }
  return { proxy, dir, namespace };
});

/** Which clusters hold a ConfigMap, asked directly. */
async function whereIs(env: TestEnv, namespace: string, name: string): Promise<string[]> {
  const found: string[] = [];
  for (const cluster of env.clusters) {
    const result = await kubectl(cluster, [
      "get",
      "configmap",
      name,
      "-n",
      namespace,
      "-o",
      "name",
    ]);
    if (result.code === 0) found.push(cluster.name);
  }
  return found;
}

e2eTest(
  "objects created through the proxy by kubectl, client-go, client-node and Python land where the routes say",
  async (env) => {
    const { proxy, namespace } = await proxyFixture(env);
    const westNamespace = uniqueName("west-team");
    await kubectlOk(env.cluster("west"), ["create", "namespace", westNamespace]);
    const clientGo = await clientGoBinary();
    const python = await pythonWithKubernetes();
    const nodeClient = (() => {
      const config = new KubeConfig();
      config.loadFromFile(proxy.kubeconfigPath);
      return config.makeApiClient(CoreV1Api);
    })();

    const writers: [string, (ns: string, name: string, labels: string) => Promise<unknown>][] = [
      ["kubectl", (ns, name, labels) =>
        kubectlOk(proxy.kubeconfigPath, ["apply", "-f", "-"], {
          stdin: JSON.stringify({
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: {
              name,
              namespace: ns,
              labels: Object.fromEntries(
                labels ? labels.split(",").map((l) => l.split("=")) : [],
              ),
            },
            data: { writer: "kubectl" },
          }),
        })],
      [
        "client-go",
        (ns, name, labels) =>
          runClient(clientGo, [proxy.kubeconfigPath, "create", ns, name, labels]),
      ],
      [
        "python",
        (ns, name, labels) =>
          runClient(python, [PYTHON_CLIENT, proxy.kubeconfigPath, "create", ns, name, labels]),
      ],
      ["client-node", (ns, name, labels) =>
        nodeClient.createNamespacedConfigMap({
          namespace: ns,
          body: {
            metadata: {
              name,
              labels: Object.fromEntries(
                labels ? labels.split(",").map((l) => l.split("=")) : [],
              ),
            },
            data: { writer: "client-node" },
          },
        })],
    ];
    for (const [client, write] of writers) {
      const east = `${client}-east`;
      const west = `${client}-west`;
      const plain = `${client}-plain`;
      await write(namespace, east, "region=east,app=demo");
      await write(westNamespace, west, "app=demo");
      await write(namespace, plain, "");
      assertEquals(
        await whereIs(env, namespace, east),
        ["east"],
        `${client}: labelled region=east`,
      );
      assertEquals(
        await whereIs(env, westNamespace, west),
        ["west"],
        `${client}: namespace west-*`,
      );
      assertEquals(
        await whereIs(env, namespace, plain),
        ["host"],
        `${client}: no label goes to the default`,
      );
    }

    // Reads by name find each object in its cluster, with every client.
    const kubectlRead = JSON.parse(
      await kubectlOk(proxy.kubeconfigPath, [
        "get",
        "cm",
        "python-east",
        "-n",
        namespace,
        "-o",
        "json",
      ]),
    );
    assertEquals(kubectlRead.data.writer, "python");
    assertEquals(
      JSON.parse(
        await runClient(clientGo, [proxy.kubeconfigPath, "get", namespace, "kubectl-east"]),
      ),
      { writer: "kubectl" },
    );
    assertEquals(
      JSON.parse(
        await runClient(python, [
          PYTHON_CLIENT,
          proxy.kubeconfigPath,
          "get",
          westNamespace,
          "client-go-west",
        ]),
      ),
      { writer: "client-go" },
    );
    const nodeRead = await nodeClient.readNamespacedConfigMap({
      name: "client-go-east",
      namespace,
    });
    assertEquals(nodeRead.data?.writer, "client-go");

    // Every response names the cluster that served it.
    const response = await fetch(
      `${proxy.url}/api/v1/namespaces/${namespace}/configmaps/kubectl-east`,
      {
        headers: { Authorization: `Bearer ${proxy.token}` },
        client: Deno.createHttpClient({ caCerts: [proxy.caPem] }),
      },
    );
    await response.body?.cancel();
    assertEquals(response.headers.get("x-mca-cluster"), "east");
  },
);

e2eTest(
  "the running sidecar gives the apps' folder only ca.crt, namespace and token (its CA key stays in its state folder)",
  async (env) => {
    const { proxy } = await proxyFixture(env);
    const names = [...Deno.readDirSync(proxy.appDir)].map((entry) => entry.name).sort();
    assertEquals(names, ["ca.crt", "namespace", "token"]);
    for (const name of names) {
      assert(!Deno.readTextFileSync(`${proxy.appDir}/${name}`).includes("PRIVATE KEY"), name);
    }
  },
);

e2eTest("a watch through the proxy delivers events as they happen", async (env) => {
  const { proxy, namespace } = await proxyFixture(env);
  const watchNamespace = uniqueName("watch");
  await kubectlOk(env.cluster("host"), ["create", "namespace", watchNamespace]);
  const child = new Deno.Command(await clientGoBinary(), {
    args: [proxy.kubeconfigPath, "watch", watchNamespace],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  const readUntil = async (text: string) => {
    while (!seen.includes(text)) {
      const { value, done } = await lines.read();
      if (done) throw new Error(`the watch ended before "${text}": ${seen}`);
      seen += value;
    }
  };
  try {
    await readUntil("watching");
    // Written directly to the cluster, not through the proxy: the event must be streamed to us.
    await kubectlOk(env.cluster("host"), ["create", "configmap", "first", "-n", watchNamespace]);
    const started = Date.now();
    await readUntil("ADDED first");
    await kubectlOk(env.cluster("host"), [
      "label",
      "configmap",
      "first",
      "-n",
      watchNamespace,
      "seen=yes",
    ]);
    await readUntil("MODIFIED first");
    assert(Date.now() - started < 5_000, "events arrive promptly");
  } finally {
    await child.stdin.close();
    await lines.cancel();
    await child.status;
    await child.stderr.cancel();
  }
  assert(namespace.length > 0);
});

e2eTest(
  "an unreachable cluster gives a 503 Status quickly; a missing or wrong token gives 401",
  async (env) => {
    const { proxy } = await proxyFixture(env);
    const client = Deno.createHttpClient({ caCerts: [proxy.caPem] });
    try {
      const started = Date.now();
      const down = await fetch(`${proxy.url}/api/v1/namespaces/down-1/configmaps`, {
        headers: { Authorization: `Bearer ${proxy.token}` },
        client,
      });
      const status = await down.json();
      assertEquals(down.status, 503);
      assertEquals(status.kind, "Status");
      assertEquals(status.reason, "ServiceUnavailable");
      assertStringIncludes(status.message, `Cluster "down" is unreachable`);
      assertEquals(down.headers.get("x-mca-cluster"), "down");
      assert(Date.now() - started < 3_000, `503 after ${Date.now() - started} ms`);

      for (
        const headers of [{}, { Authorization: "Bearer wrong" }, {
          Authorization: `Basic ${btoa("a:b")}`,
        }]
      ) {
        const denied = await fetch(`${proxy.url}/api/v1/namespaces`, { headers, client });
        const body = await denied.json();
        assertEquals(denied.status, 401);
        assertEquals([body.kind, body.reason, body.code], ["Status", "Unauthorized", 401]);
      }
    } finally {
      client.close();
    }
  },
);

e2eTest("the proxy picks up a rotated service-account token", async (env) => {
  const { proxy } = await proxyFixture(env);
  const host = env.cluster("host");
  const list = () =>
    kubectl(proxy.kubeconfigPath, ["get", "serviceaccounts", "-n", proxy.namespace, "-o", "name"]);
  assertEquals((await list()).code, 0);
  // The kubelet writes a new token; the old one dies with the Secret it was bound to.
  await proxy.rotateToken("token-2");
  await kubectlOk(host, ["delete", "secret", "token-1", "-n", proxy.namespace]);
  await waitFor(async () => (await list()).code === 0, {
    description: "requests to succeed with the new token",
  });
  assertEquals((await list()).code, 0);
});

e2eTest(
  "exec over WebSocket (v5.channel.k8s.io) goes through the proxy to a real pod's kubelet",
  async (env) => {
    await using dir = await tempDir("mca-proxy-exec-");
    // The sidecar of a pod on host's node, with nothing but its home cluster.
    const proxy = await startSidecarProxy(env, dir.path, "routes: []\n");
    try {
      const host = env.cluster("host");
      const pod = "exec";
      await apply(
        host,
        oneShotPod(proxy.namespace, pod, [{
          name: "main",
          image: env.images!.deno.ref,
          args: ["eval", "setInterval(() => {}, 1 << 30)"],
        }]),
      );
      await waitForPhase(host, proxy.namespace, pod, "Running");
      // kubectl exec: reads the pod through the proxy, then upgrades to WebSocket on .../exec.
      const result = await kubectl(proxy.kubeconfigPath, [
        "exec",
        pod,
        "-n",
        proxy.namespace,
        "--",
        "deno",
        "eval",
        "console.log(`hello from ${Deno.hostname()}`)",
      ]);
      assertEquals(result.stderr, "");
      assertEquals(result.stdout, `hello from ${pod}\n`);
      assertEquals(result.code, 0);
      assertStringIncludes(
        await proxy.process.tail(200),
        `/api/v1/namespaces/${proxy.namespace}/pods/${pod}/exec`,
      );

      // A raw WebSocket client: stdin is echoed back on stdout through both hops; with v5,
      // closing stdin (a v5-only signal) reaches the command, which ends with Success.
      const url = `${proxy.url}/api/v1/namespaces/${proxy.namespace}/pods/${pod}/exec?` +
        `${ECHO_STDIN}&stdin=true&stdout=true`;
      const v5 = await execEcho(url, {
        token: proxy.token,
        caPem: proxy.caPem,
        protocol: "v5.channel.k8s.io",
        text: "ping",
        closeStdin: true,
      });
      assertEquals([v5.protocol, v5.received, v5.status], ["v5.channel.k8s.io", "ping", "Success"]);
      const v4 = await execEcho(url, {
        token: proxy.token,
        caPem: proxy.caPem,
        protocol: "v4.channel.k8s.io",
        text: "pong",
      });
      assertEquals(v4.protocol, "v4.channel.k8s.io");
      assertStringIncludes(v4.received, "pong");
    } finally {
      await proxy.stop();
    }
  },
  { nodes: true },
);

e2eTest("a named object that exists in several clusters is a 409 naming them", async (env) => {
  const { proxy, namespace } = await proxyFixture(env);
  const name = uniqueName("twin");
  await kubectlOk(env.cluster("east"), ["create", "configmap", name, "-n", namespace]);
  await kubectlOk(env.cluster("west"), ["create", "configmap", name, "-n", namespace]);
  const result = await kubectl(proxy.kubeconfigPath, ["get", "configmap", name, "-n", namespace]);
  assertEquals(result.code, 1);
  assertStringIncludes(result.stderr, `exists in several clusters (east, west)`);
});

e2eTest(
  "content encodings, protobuf and Table pass through untouched; oversized bodies get 413",
  async (env) => {
    const { proxy } = await proxyFixture(env);
    const ns = uniqueName("big");
    const host = env.cluster("host");
    await kubectlOk(host, ["create", "namespace", ns]);
    // Enough data for the API server to gzip its answer (it compresses above 128 KiB).
    const items = Array.from({ length: 120 }, (_, i) => ({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: `cm-${i}`, namespace: ns },
      data: { blob: "x".repeat(4096) },
    }));
    await kubectlOk(host, ["apply", "-f", "-"], {
      stdin: JSON.stringify({ apiVersion: "v1", kind: "List", items }),
    });
    const raw = (headers: Record<string, string>, direct = false) =>
      new Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }>(
        (resolve, reject) => {
          const base = direct ? host.url : proxy.url;
          https.get(`${base}/api/v1/namespaces/${ns}/configmaps`, {
            ca: direct ? host.caPem : proxy.caPem,
            headers: {
              Authorization: `Bearer ${direct ? host.adminToken : proxy.token}`,
              ...headers,
            },
          }, (response) => {
            const chunks: Buffer[] = [];
            response.on("data", (chunk) => chunks.push(chunk));
            response.on("end", () =>
              resolve({
                status: response.statusCode!,
                headers: response.headers,
                body: Buffer.concat(chunks),
              }));
          }).on("error", reject);
        },
      );
    // Whatever encoding the API server chose (it gzips large answers) reaches the client as is.
    const gzipped = await raw({ "Accept-Encoding": "gzip" });
    const directly = await raw({ "Accept-Encoding": "gzip" }, true);
    assertEquals(gzipped.headers["content-encoding"], directly.headers["content-encoding"]);
    assertEquals(gzipped.headers["content-encoding"], "gzip");
    assertEquals(JSON.parse(gunzipSync(gzipped.body).toString()).items.length, 120);
    const protobuf = await raw({ Accept: "application/vnd.kubernetes.protobuf" });
    assertEquals(protobuf.headers["content-type"], "application/vnd.kubernetes.protobuf");
    assertEquals([...protobuf.body.subarray(0, 4)], [0x6b, 0x38, 0x73, 0x00]); // the "k8s\0" magic
    const table = await raw({ Accept: "application/json;as=Table;v=v1;g=meta.k8s.io" });
    assertEquals(JSON.parse(table.body.toString()).kind, "Table");

    const client = Deno.createHttpClient({ caCerts: [proxy.caPem] });
    const tooBig = await fetch(`${proxy.url}/api/v1/namespaces/${ns}/configmaps`, {
      method: "POST",
      headers: { Authorization: `Bearer ${proxy.token}`, "Content-Type": "application/json" },
      body: JSON.stringify({
        metadata: { name: "huge" },
        data: { blob: "x".repeat(4 * 1024 * 1024) },
      }),
      client,
    });
    const status = await tooBig.json();
    client.close();
    assertEquals(tooBig.status, 413);
    assertEquals(status.reason, "RequestEntityTooLarge");
  },
);

e2eTest(
  "the proxy reloads its config on change and keeps the last good one when a change is bad",
  async (env) => {
    const { proxy, namespace } = await proxyFixture(env);
    const original = await Deno.readTextFile(proxy.configPath);
    const create = async (name: string) => {
      await kubectlOk(proxy.kubeconfigPath, [
        "create",
        "configmap",
        name,
        "-n",
        namespace,
        "--from-literal=k=v",
      ]);
      return await whereIs(env, namespace, name);
    };
    try {
      // A new first route sends every ConfigMap created in this namespace to west.
      const route =
        `- name: all-west\n  match: {namespaces: [${namespace}], verbs: [create]}\n  cluster: west\n`;
      await Deno.writeTextFile(
        proxy.configPath,
        original.replace("routes:\n", `routes:\n${route}`),
      );
      await waitFor(async () => (await create(uniqueName("reloaded"))).includes("west"), {
        description: "the new route to take effect",
      });
      // A broken config is refused; the last good one keeps routing to west.
      await Deno.writeTextFile(
        proxy.configPath,
        original.replace("routes:\n", "routes:\n- match: {verbs: [fly]}\n  cluster: mars\n"),
      );
      await waitFor(async () =>
        (await proxy.process.tail(50)).includes(
          "config reload failed; keeping the last good config",
        ), {
        description: "the bad config to be reported",
      }).catch(async (error) => {
        throw new Error(`${error.message}\n${await proxy.process.tail(30)}`);
      });
      assertEquals(await create(uniqueName("kept")), ["west"]);
    } finally {
      await Deno.writeTextFile(proxy.configPath, original);
      await waitFor(async () => (await create(uniqueName("restored"))).includes("host"), {
        description: "the original config",
      });
    }
  },
);
