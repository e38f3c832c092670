/**
 * The sidecar's request path (createProxyHandler) with fake upstreams: authorization, forwarding
 * to the routed cluster with the cluster's credentials only, bounded bodies, merged lists,
 * unavailable clusters and upgrades. The e2e tests run the same path against real clusters.
 */
import { duplexPair } from "node:stream";
import { assert, assertEquals, assertStringIncludes } from "../_utils/assert.ts";
import {
  fakeRequest,
  FakeResponse,
  FakeUpstream,
  type FakeUpstreamAnswers,
  socketReader,
  upstreamResponse,
} from "../_utils/fake_exchange.ts";
import { waitFor } from "../../src/common/mod.ts";
import { UpstreamUnavailableError } from "../../src/forward/mod.ts";
import { createLogger, type Logger, silentLogger } from "../../src/log/mod.ts";
import { createMetricsRegistry } from "../../src/metrics/mod.ts";
import {
  createProxyHandler,
  createProxyMetrics,
  OwnerIndex,
  type ProxyConfig,
  type ProxyMetrics,
} from "../../src/proxy/mod.ts";

const TOKEN = "pod-token";
const AUTHORIZED = { Authorization: `Bearer ${TOKEN}` };

/** Two clusters: team-b's namespace lives in "b", ConfigMaps are listed from both. */
const CONFIG: ProxyConfig = {
  home: "a",
  default: "a",
  clusters: {
    a: { type: "inCluster", timeoutMs: 1_000 },
    b: { type: "inCluster", timeoutMs: 1_000 },
  },
  routes: [
    { name: "team-b", match: { namespaces: ["team-b"] }, cluster: "b" },
    {
      name: "configmaps-everywhere",
      match: { resources: [{ resource: "configmaps" }], verbs: ["list", "watch"] },
      cluster: "a",
      clusters: ["a", "b"],
    },
  ],
};

/** A handler over these fake upstreams (a cluster without one is unavailable). */
function proxyWith(
  upstreams: Record<string, FakeUpstreamAnswers>,
  maxBodyBytes = 1024,
  logger: Logger = silentLogger,
) {
  const fakes = new Map(
    Object.entries(upstreams).map(([name, answers]) => [name, new FakeUpstream(name, answers)]),
  );
  const metrics: ProxyMetrics = createProxyMetrics(createMetricsRegistry());
  const handler = createProxyHandler({
    config: () => CONFIG,
    upstream: (cluster) => fakes.get(cluster),
    unavailableReason: (cluster) =>
      fakes.has(cluster) ? undefined : `Cluster "${cluster}" is reached through a hub that is down`,
    token: TOKEN,
    index: new OwnerIndex(),
    metrics,
    logger,
    maxBodyBytes,
  });
  /** Sends a request and waits for the whole answer. */
  const send = async (request: ReturnType<typeof fakeRequest>) => {
    const res = new FakeResponse();
    handler.handleRequest(request, res);
    await res.done;
    return res;
  };
  return { handler, fakes, metrics, send };
}

function requestsCounted(metrics: ProxyMetrics, cluster: string, verb: string, code: number) {
  return metrics.requests.get({ cluster, verb, code: String(code) });
}

Deno.test("createProxyHandler() refuses a request without the pod's token with a 401 Status", async () => {
  const { fakes, metrics, send } = proxyWith({ a: {}, b: {} });
  const req = fakeRequest("GET", "/api/v1/namespaces/team-b/pods", {
    headers: { Authorization: "Bearer someone-else" },
  });
  const res = await send(req);
  assertEquals(res.status, 401);
  assertEquals(res.json().kind, "Status");
  assertStringIncludes(String(res.json().message), "only accepts the token it wrote for this pod");
  assert(req.resumed, "the body is discarded");
  assertEquals(fakes.get("b")!.requests.length, 0);
  assertEquals(requestsCounted(metrics, "", "list", 401), 1);
});

Deno.test("createProxyHandler() forwards a GET to the routed cluster without the caller's credentials, impersonation left to the upstream", async () => {
  const { fakes, metrics, send } = proxyWith({
    a: {},
    b: {
      request: () => ({
        status: 200,
        statusMessage: "OK",
        headers: { "Content-Type": "application/json", "Content-Length": "24" },
        body: '{"kind":"PodList","x":1}',
      }),
    },
  });
  const res = await send(fakeRequest("GET", "/api/v1/namespaces/team-b/pods?limit=5", {
    headers: { ...AUTHORIZED, Accept: "application/json", "Impersonate-User": "mallory" },
  }));
  assertEquals(res.status, 200);
  assertEquals(res.text(), '{"kind":"PodList","x":1}');
  assertEquals(res.headers["x-mca-cluster"], "b");
  assertEquals(fakes.get("a")!.requests.length, 0);
  const [sent] = fakes.get("b")!.requests;
  assertEquals(sent?.method, "GET");
  assertEquals(sent?.path, "/api/v1/namespaces/team-b/pods?limit=5");
  // Whether Impersonate-* reaches the server is the upstream's choice (tests/forward/upstream_test.ts).
  assertEquals(sent?.headers, { accept: "application/json", "impersonate-user": "mallory" });
  assertEquals(requestsCounted(metrics, "b", "list", 200), 1);
});

Deno.test("createProxyHandler() logs the API server's Audit-Id with the request", async () => {
  const lines: string[] = [];
  const logger = createLogger({ level: "debug", write: (line) => lines.push(line) });
  const { send } = proxyWith(
    {
      a: {},
      b: { request: () => ({ status: 200, headers: { "Audit-Id": "9d2e-audit" }, body: "{}" }) },
    },
    1024,
    logger,
  );
  const res = await send(fakeRequest("GET", "/api/v1/namespaces/team-b/pods", {
    headers: AUTHORIZED,
  }));
  assertEquals(res.status, 200);
  const logged = lines.map((line) => JSON.parse(line)).find((line) => line.msg === "request");
  assertEquals(logged?.auditId, "9d2e-audit");
  assertEquals(logged?.cluster, "b");
});

Deno.test("createProxyHandler() answers 413 to a body over the limit without asking a cluster", async () => {
  const { fakes, metrics, send } = proxyWith({ a: { request: () => ({ status: 201 }) } }, 16);
  const body = JSON.stringify({ kind: "ConfigMap", metadata: { name: "big" }, data: { x: "y" } });
  const res = await send(fakeRequest("POST", "/api/v1/namespaces/default/configmaps", {
    headers: {
      ...AUTHORIZED,
      "Content-Type": "application/json",
      "Content-Length": String(body.length),
    },
    body,
  }));
  assertEquals(res.status, 413);
  assertEquals(res.json().reason, "RequestEntityTooLarge");
  assertStringIncludes(String(res.json().message), "limit of 16 bytes");
  assertEquals(fakes.get("a")!.requests.length, 0);
  assertEquals(requestsCounted(metrics, "", "create", 413), 1);
});

Deno.test("createProxyHandler() merges a LIST across two clusters, each item marked with its cluster", async () => {
  const list = (cluster: string, version: string) => ({
    read: () => ({
      status: 200,
      body: JSON.stringify({
        kind: "ConfigMapList",
        apiVersion: "v1",
        metadata: { resourceVersion: version },
        items: [{ metadata: { name: `from-${cluster}`, namespace: "default" } }],
      }),
    }),
  });
  const { fakes, metrics, send } = proxyWith({ a: list("a", "10"), b: list("b", "20") });
  const res = await send(fakeRequest("GET", "/api/v1/configmaps", { headers: AUTHORIZED }));
  assertEquals(res.status, 200);
  assertEquals(res.headers["x-mca-cluster"], "a,b");
  const body = res.json<{ items: { metadata: { name: string; annotations: object } }[] }>();
  assertEquals(
    body.items.map((item) => [item.metadata.name, item.metadata.annotations]),
    [
      ["from-a", { "mca.k8s.io/cluster": "a" }],
      ["from-b", { "mca.k8s.io/cluster": "b" }],
    ],
  );
  assertEquals(fakes.get("a")!.reads.map((read) => read.path), ["/api/v1/configmaps"]);
  assertEquals(fakes.get("b")!.reads.map((read) => read.path), ["/api/v1/configmaps"]);
  assertEquals(fakes.get("a")!.reads[0]!.headers.authorization, undefined);
  assertEquals(requestsCounted(metrics, "a,b", "list", 200), 1);
});

Deno.test("createProxyHandler() answers 503 with a Status when the routed cluster cannot be reached", async () => {
  const { metrics, send } = proxyWith({
    a: {},
    b: {
      request: () => {
        throw new UpstreamUnavailableError("b", "connect ECONNREFUSED 127.0.0.1:1");
      },
    },
  });
  const res = await send(
    fakeRequest("GET", "/api/v1/namespaces/team-b/pods", { headers: AUTHORIZED }),
  );
  assertEquals(res.status, 503);
  assertEquals(res.headers["x-mca-cluster"], "b");
  assertEquals(res.json().reason, "ServiceUnavailable");
  assertEquals(res.json().message, 'Cluster "b" is unreachable: connect ECONNREFUSED 127.0.0.1:1');
  assertEquals(requestsCounted(metrics, "b", "list", 503), 1);
});

Deno.test("createProxyHandler() answers 503 with the runtime's reason when a cluster has no upstream", async () => {
  const { metrics, send } = proxyWith({ a: {} });
  const res = await send(
    fakeRequest("GET", "/api/v1/namespaces/team-b/pods", { headers: AUTHORIZED }),
  );
  assertEquals(res.status, 503);
  assertEquals(res.json().message, 'Cluster "b" is reached through a hub that is down');
  assertEquals(requestsCounted(metrics, "b", "list", 503), 1);
});

const EXEC = "/api/v1/namespaces/team-b/pods/web/exec?command=sh&stdin=true";
const UPGRADE = { ...AUTHORIZED, Connection: "Upgrade", Upgrade: "websocket" };

Deno.test("createProxyHandler() carries an upgrade the cluster answers with 101 and joins the connections", async () => {
  const [upstreamEnd, serverEnd] = duplexPair();
  const server = socketReader(serverEnd);
  const { handler, fakes, metrics } = proxyWith({
    a: {},
    b: {
      upgrade: () => ({
        upgraded: true,
        response: upstreamResponse({
          status: 101,
          statusMessage: "Switching Protocols",
          headers: { Upgrade: "websocket", Connection: "Upgrade" },
        }),
        socket: upstreamEnd,
        head: new TextEncoder().encode("early"),
      }),
    },
  });
  const [clientEnd, proxyEnd] = duplexPair();
  const client = socketReader(clientEnd);
  handler.handleUpgrade(fakeRequest("GET", EXEC, { headers: UPGRADE }), proxyEnd, new Uint8Array());
  await waitFor(() => client.text().includes("early"), { timeoutMs: 2_000, intervalMs: 5 });
  assert(client.text().startsWith("HTTP/1.1 101 Switching Protocols\r\n"), client.text());
  assertStringIncludes(client.text().toLowerCase(), "x-mca-cluster: b\r\n");
  assertEquals(fakes.get("b")!.upgrades[0]!.headers, {
    connection: "Upgrade",
    upgrade: "websocket",
  });
  assertEquals(metrics.openUpgrades.get({ cluster: "b" }), 1);
  clientEnd.write("to the pod");
  serverEnd.write("from the pod");
  await waitFor(() => server.text() === "to the pod", { timeoutMs: 2_000, intervalMs: 5 });
  await waitFor(() => client.text().endsWith("from the pod"), { timeoutMs: 2_000, intervalMs: 5 });
  // The pod's side ends the stream; the client sees the end and closes its side too.
  serverEnd.end();
  await client.ended;
  clientEnd.end();
  await waitFor(() => metrics.openUpgrades.get({ cluster: "b" }) === 0, {
    timeoutMs: 2_000,
    intervalMs: 5,
  });
});

Deno.test("createProxyHandler() passes on a cluster's refusal of an upgrade and closes the socket", async () => {
  const status = JSON.stringify({ kind: "Status", code: 403, message: "exec is forbidden" });
  const { handler, metrics } = proxyWith({
    a: {},
    b: {
      upgrade: () => ({
        upgraded: false,
        response: upstreamResponse({
          status: 403,
          statusMessage: "Forbidden",
          headers: { "Content-Type": "application/json", "Content-Length": String(status.length) },
          body: status,
        }),
      }),
    },
  });
  const [clientEnd, proxyEnd] = duplexPair();
  const client = socketReader(clientEnd);
  handler.handleUpgrade(fakeRequest("GET", EXEC, { headers: UPGRADE }), proxyEnd, new Uint8Array());
  await client.ended;
  assert(client.text().startsWith("HTTP/1.1 403 Forbidden\r\n"), client.text());
  assertStringIncludes(client.text().toLowerCase(), "connection: close\r\n");
  assert(client.text().endsWith(`\r\n\r\n${status}`), client.text());
  assertEquals(metrics.openUpgrades.get({ cluster: "b" }), 0);
});

Deno.test("createProxyHandler() refuses an upgrade without the pod's token before asking a cluster", async () => {
  const { handler, fakes } = proxyWith({ a: {}, b: { upgrade: () => assertNever() } });
  const [clientEnd, proxyEnd] = duplexPair();
  const client = socketReader(clientEnd);
  handler.handleUpgrade(
    fakeRequest("GET", EXEC, { headers: { ...UPGRADE, Authorization: "Bearer nope" } }),
    proxyEnd,
    new Uint8Array(),
  );
  await client.ended;
  assert(client.text().startsWith("HTTP/1.1 401 Unauthorized\r\n"), client.text());
  assertStringIncludes(client.text(), '"reason":"Unauthorized"');
  assertEquals(fakes.get("b")!.upgrades.length, 0);
});

function assertNever(): never {
  throw new Error("The cluster was asked");
}
