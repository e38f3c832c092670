/**
 * The sidecar's request path against a real API server, with raw TLS clients: a client that
 * stops reading a large LIST, targets that would leave a cluster's path prefix, and requests
 * kube-apiserver itself refuses (issue 16, items 7, 8 and 10).
 */
import { assert, assertEquals, assertStringIncludes } from "../_utils/assert.ts";
import { e2eTest, kubectl, kubectlOk, uniqueName } from "../_utils/e2e.ts";
import { waitUntilHeldBack } from "../_utils/held_back.ts";
import { startHttpsRecorder } from "../_utils/https_recorder.ts";
import { ESCAPING_TARGETS, MALFORMED_REQUESTS } from "../_utils/malformed_requests.ts";
import { connectRaw, latin1Bytes, rawExchange, readAnswer } from "../_utils/raw_tls.ts";
import { type SidecarProxy, startSidecarProxy } from "../_utils/sidecar_proxy.ts";
import { createTestPki } from "../_utils/test_pki.ts";
import { tempDir } from "../_utils/temp_dir.ts";
import type { TestCluster } from "../../src/testenv/mod.ts";
import { renderKubeconfig } from "../../src/kube/mod.ts";

/** ConfigMaps of almost 1 MiB each (the API's limit): a LIST of them is about 60 MiB. */
const BIG_ITEMS = 64;

async function createBigConfigMaps(cluster: TestCluster, namespace: string): Promise<void> {
  await kubectlOk(cluster, ["create", "namespace", namespace]);
  const blob = "x".repeat(960 * 1024);
  for (let i = 0; i < BIG_ITEMS; i += 8) {
    await Promise.all(
      Array.from(
        { length: 8 },
        (_, j) =>
          cluster.client.create(`/api/v1/namespaces/${namespace}/configmaps`, {
            metadata: { name: `big-${i + j}` },
            data: { blob },
          }),
      ),
    );
  }
}

/** Asks for the LIST as an HTTP/1.0 client (its body then ends with the connection). */
function listRequest(namespace: string, token: string): Uint8Array {
  return latin1Bytes(
    `GET /api/v1/namespaces/${namespace}/configmaps HTTP/1.0\r\nHost: mca.test\r\n` +
      `Authorization: Bearer ${token}\r\n\r\n`,
  );
}

/** Asserts a proxy-made 400 Status. */
function assertBadRequest(answer: { status: number; body: string }, what: string): void {
  assertEquals(answer.status, 400, `${what}: ${answer.body.slice(0, 200)}`);
  const status = JSON.parse(answer.body);
  assertEquals([status.kind, status.code, status.reason], ["Status", 400, "BadRequest"], what);
}

e2eTest(
  "a client that stops reading a 60 MiB LIST holds the API server back; the sidecar stays small",
  async (env) => {
    const host = env.cluster("host");
    await using dir = await tempDir();
    const proxy: SidecarProxy = await startSidecarProxy(env, dir.path, "routes: []\n");
    const namespace = uniqueName("big");
    await createBigConfigMaps(host, namespace);
    const conn = await connectRaw(proxy.url, proxy.caPem);
    try {
      await conn.write(listRequest(namespace, proxy.token));
      // The client reads nothing: the sidecar must stop reading the API server, not take the
      // whole answer into memory (it grew by about 270 MiB on a 128 MiB answer).
      await waitUntilHeldBack(
        [{ name: "the sidecar", pid: proxy.process.pid }],
        Number(new URL(host.url).port),
        40,
      );
      // Reading again brings the whole answer.
      const answer = await readAnswer(conn, false);
      assertEquals(answer.status, 200);
      assertEquals(JSON.parse(answer.body).items.length, BIG_ITEMS);
    } finally {
      conn.close();
      await proxy.stop();
      await kubectlOk(host, ["delete", "configmaps", "--all", "-n", namespace]);
    }
  },
);

e2eTest(
  "targets that would leave a cluster's path prefix get a 400 and reach no cluster",
  async (env) => {
    await using dir = await tempDir();
    const pki = await createTestPki();
    // A cluster behind a path prefix, as Rancher serves them; it records what reaches it.
    const recorder = await startHttpsRecorder(pki);
    const kubeconfig = await dir.write(
      "prefixed.kubeconfig",
      renderKubeconfig([{
        name: "c-1",
        server: `${recorder.url}/k8s/clusters/c-1`,
        caPem: pki.ca.certificatePem,
        user: { token: "the-cluster-token" },
      }]),
    );
    const proxy = await startSidecarProxy(
      env,
      dir.path,
      `clusters:\n  c-1: {kubeconfig: ${kubeconfig}, context: c-1}\nroutes: []\ndefault: c-1\n`,
    );
    try {
      const request = (target: string) =>
        rawExchange(
          proxy.url,
          proxy.caPem,
          `GET ${target} HTTP/1.1\r\nHost: mca.test\r\nAuthorization: Bearer ${proxy.token}\r\n` +
            "Connection: close\r\n\r\n",
        );
      for (const target of ESCAPING_TARGETS) assertBadRequest(await request(target), target);
      // A real client sends encoded dot segments as they are given; it gets the 400 Status.
      const viaKubectl = await kubectl(proxy.kubeconfigPath, [
        "get",
        "--raw",
        "/api/v1/namespaces/%2e%2e/%2E%2e/v3/users",
      ]);
      assertEquals(viaKubectl.code, 1, viaKubectl.stdout);
      assertStringIncludes(viaKubectl.stderr, "BadRequest");
      const fine = await request("/api/v1/namespaces/shop/configmaps?labelSelector=a%3Db");
      assertEquals(fine.status, 200);
      assertEquals(
        recorder.requests.map((r) => r.path),
        ["/k8s/clusters/c-1/api/v1/namespaces/shop/configmaps?labelSelector=a%3Db"],
      );
    } finally {
      await proxy.stop();
      await recorder.close();
    }
  },
);

e2eTest(
  "requests kube-apiserver refuses get a 4xx Status from the sidecar too, never a 500",
  async (env) => {
    const host = env.cluster("host");
    await using dir = await tempDir();
    const proxy = await startSidecarProxy(env, dir.path, "routes: []\n");
    try {
      const path = "/api/v1/namespaces/default/configmaps";
      for (const malformed of MALFORMED_REQUESTS) {
        const direct = await rawExchange(
          host.url,
          host.caPem,
          malformed.build(path, `Authorization: Bearer ${host.adminToken}`),
        );
        const proxied = await rawExchange(
          proxy.url,
          proxy.caPem,
          malformed.build(path, `Authorization: Bearer ${proxy.token}`),
        );
        assert(
          direct.status >= 400 && direct.status < 500,
          `kube-apiserver answered ${malformed.name} with ${direct.status}`,
        );
        assertEquals(proxied.status, direct.status === 405 ? 405 : 400, malformed.name);
        assertEquals(JSON.parse(proxied.body).kind, "Status", malformed.name);
      }
      // Thousands of repeated headers of one name are answered as kube-apiserver answers them
      // (10,000 got no answer from it within 15 s here; the parser's own cost is tested linear).
      const many = "X-Many: v\r\n".repeat(2_000);
      const repeated = (url: string, caPem: string, token: string) =>
        rawExchange(
          url,
          caPem,
          `GET ${path} HTTP/1.1\r\nHost: mca.test\r\nAuthorization: Bearer ${token}\r\n` +
            `${many}Connection: close\r\n\r\n`,
        );
      const direct = await repeated(host.url, host.caPem, host.adminToken);
      assertEquals(direct.status, 200);
      assertEquals((await repeated(proxy.url, proxy.caPem, proxy.token)).status, 200);
    } finally {
      await proxy.stop();
    }
  },
);
