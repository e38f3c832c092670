import https from "node:https";
import type { ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { assert, assertEquals, assertRejects } from "../_utils/assert.ts";
import {
  type ClientConfig,
  createKubeClient,
  createKubeTransport,
  KubeApiError,
  manifestPath,
  parseApiVersion,
  resourcePath,
} from "../../src/kube/mod.ts";
import { startHttpsRecorder } from "../_utils/https_recorder.ts";
import { createTestPki, type TestPki } from "../_utils/test_pki.ts";

function clientFor(pki: TestPki, url: string) {
  const config: ClientConfig = {
    server: url,
    tls: { caPem: pki.ca.certificatePem, insecureSkipVerify: false },
    disableCompression: false,
    credentials: { type: "token", token: "t" },
    namespace: "default",
    source: "test",
  };
  return createKubeClient(createKubeTransport(config));
}

Deno.test("resourcePath() builds core, group, namespaced and subresource paths", () => {
  assertEquals(resourcePath({ version: "v1", resource: "namespaces" }), "/api/v1/namespaces");
  assertEquals(
    resourcePath({
      group: "apps",
      version: "v1",
      resource: "deployments",
      namespace: "a b",
      name: "web",
      subresource: "scale",
    }),
    "/apis/apps/v1/namespaces/a%20b/deployments/web/scale",
  );
  assertEquals(parseApiVersion("apps/v1"), { group: "apps", version: "v1" });
  assertEquals(parseApiVersion("v1"), { group: "", version: "v1" });
});

Deno.test("manifestPath() finds the object of a namespaced or cluster-scoped manifest", () => {
  assertEquals(
    manifestPath({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a", namespace: "n" } }),
    "/api/v1/namespaces/n/configmaps/a",
  );
  assertEquals(
    manifestPath({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: "r" },
    }),
    "/apis/rbac.authorization.k8s.io/v1/clusterroles/r",
  );
});

Deno.test("createKubeClient() sends each verb with the right method, query and content type", async () => {
  const pki = await createTestPki();
  const server = await startHttpsRecorder(
    pki,
    () => ({ body: '{"kind":"ConfigMap","metadata":{"name":"x"}}' }),
  );
  const client = clientFor(pki, server.url);
  const cm = { version: "v1", resource: "configmaps", namespace: "ns" };
  try {
    await client.get({ ...cm, name: "x" });
    await client.list(cm, { labelSelector: "app=web", limit: 5, continue: "" });
    await client.create(cm, { metadata: { name: "x" } }, { dryRun: true });
    await client.replace({ ...cm, name: "x" }, { metadata: { name: "x" } });
    await client.patch({ ...cm, name: "x" }, { data: { a: "1" } }, "merge");
    await client.patch({ ...cm, name: "x" }, { data: { a: "1" } }, "strategic");
    await client.patch({ ...cm, name: "x" }, [{ op: "add", path: "/data/b", value: "2" }], "json");
    await client.patch({ ...cm, name: "x" }, { apiVersion: "v1", kind: "ConfigMap" }, "apply", {
      force: true,
    });
    await client.delete({ ...cm, name: "x" }, {
      dryRun: true,
      propagationPolicy: "Background",
      preconditions: { uid: "u-1" },
    });
    const seen = server.requests.map((r) =>
      `${r.method} ${r.path} ${r.headers["content-type"] ?? "-"}`
    );
    assertEquals(seen, [
      "GET /api/v1/namespaces/ns/configmaps/x -",
      "GET /api/v1/namespaces/ns/configmaps?labelSelector=app%3Dweb&limit=5 -",
      "POST /api/v1/namespaces/ns/configmaps?dryRun=All application/json",
      "PUT /api/v1/namespaces/ns/configmaps/x application/json",
      "PATCH /api/v1/namespaces/ns/configmaps/x application/merge-patch+json",
      "PATCH /api/v1/namespaces/ns/configmaps/x application/strategic-merge-patch+json",
      "PATCH /api/v1/namespaces/ns/configmaps/x application/json-patch+json",
      "PATCH /api/v1/namespaces/ns/configmaps/x?fieldManager=mca&force=true application/apply-patch+yaml",
      "DELETE /api/v1/namespaces/ns/configmaps/x?dryRun=All application/json",
    ]);
    const deleteOptions = JSON.parse(server.requests.at(-1)!.body);
    assertEquals(deleteOptions.propagationPolicy, "Background");
    assertEquals(deleteOptions.preconditions, { uid: "u-1" });
    // The API server ignores the query when there is a body.
    assertEquals(deleteOptions.dryRun, ["All"]);
  } finally {
    client.transport.close();
    await server.close();
  }
});

Deno.test("createKubeClient() surfaces API errors as KubeApiError with the Status", async () => {
  const pki = await createTestPki();
  const notFound = {
    kind: "Status",
    apiVersion: "v1",
    status: "Failure",
    message: 'configmaps "x" not found',
    reason: "NotFound",
    details: { name: "x", kind: "configmaps" },
    code: 404,
  };
  const server = await startHttpsRecorder(
    pki,
    (request) =>
      request.path.includes("/x")
        ? { status: 404, body: JSON.stringify(notFound) }
        : { status: 502, body: "bad gateway" },
  );
  const client = clientFor(pki, server.url);
  try {
    const error = await assertRejects(
      () => client.get({ version: "v1", resource: "configmaps", namespace: "ns", name: "x" }),
      KubeApiError,
      'configmaps "x" not found',
    ) as KubeApiError;
    assertEquals(error.code, 404);
    assertEquals(error.reason, "NotFound");
    assertEquals(error.status.details?.name, "x");
    const other = await assertRejects(
      () => client.list("/api/v1/pods"),
      KubeApiError,
      "HTTP 502: bad gateway",
    );
    assertEquals((other as KubeApiError).status.reason, "Unknown");
  } finally {
    client.transport.close();
    await server.close();
  }
});

/** A server that streams watch events one at a time, each only after the test asks for it. */
async function startWatchServer(pki: TestPki) {
  let response: ServerResponse | undefined;
  let connected: () => void = () => {};
  const ready = new Promise<void>((resolve) => connected = resolve);
  const server = https.createServer({
    cert: pki.server.certificatePem,
    key: pki.server.privateKeyPem,
  }, (_req, res) => {
    res.writeHead(200, { "Content-Type": "application/json", "Transfer-Encoding": "chunked" });
    res.flushHeaders();
    response = res;
    connected();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    ready,
    send: (text: string) => response!.write(text),
    end: () => response!.end(),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

Deno.test("createKubeClient().watch() yields each event as it arrives, even split across writes", async () => {
  const pki = await createTestPki();
  const server = await startWatchServer(pki);
  const client = clientFor(pki, server.url);
  const controller = new AbortController();
  try {
    const events = client.watch("/api/v1/pods", {
      signal: controller.signal,
      allowWatchBookmarks: true,
    });
    const first = events.next();
    await server.ready;
    server.send('{"type":"ADDED","object":{"metadata":{"name":"a"}}}\n');
    assertEquals((await first).value, { type: "ADDED", object: { metadata: { name: "a" } } });
    // The next event arrives in two pieces; it is yielded once complete, without waiting for more.
    const second = events.next();
    server.send('{"type":"MODIFIED","obj');
    server.send('ect":{"metadata":{"name":"a"}}}\n');
    assertEquals((await second).value?.type, "MODIFIED");
    controller.abort();
    assertEquals((await events.next()).done, true);
  } finally {
    client.transport.close();
    await server.close();
  }
});

Deno.test("createKubeClient().watch() ends with a KubeApiError on an ERROR event (410 Gone)", async () => {
  const pki = await createTestPki();
  const server = await startWatchServer(pki);
  const client = clientFor(pki, server.url);
  try {
    const events = client.watch("/api/v1/pods", { resourceVersion: "1" });
    const first = events.next();
    await server.ready;
    server.send(
      '{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure","message":"too old resource version","reason":"Expired","code":410}}\n',
    );
    const error = await assertRejects(
      () => first,
      KubeApiError,
      "too old resource version",
    ) as KubeApiError;
    assertEquals(error.code, 410);
    assert(error.reason === "Expired");
  } finally {
    client.transport.close();
    await server.close();
  }
});
