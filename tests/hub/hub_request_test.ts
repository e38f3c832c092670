import { assert, assertEquals, assertStringIncludes } from "../_utils/assert.ts";
import { fakeMember } from "../_utils/fake_member.ts";
import { type InMemoryTunnel, inMemoryTunnel } from "../_utils/in_memory_tunnel.ts";
import { servePlainHttp1 } from "../_utils/plain_http1.ts";
import { rawHttpExchange } from "../_utils/raw_http.ts";
import { runUpgradeCases, type UpgradePath } from "../forward/upgrade_cases.ts";
import type { Upstream } from "../../src/forward/mod.ts";
import {
  type AccessDecision,
  AgentSessions,
  createHubHandler,
  type HubHandlerDeps,
} from "../../src/hub/mod.ts";
import type { ImpersonationCheck } from "../../src/hub/requested_impersonation.ts";
import { createLogger, type Logger, silentLogger } from "../../src/log/mod.ts";
import { createMetricsRegistry } from "../../src/metrics/mod.ts";
import { NO_TOKENS } from "../_utils/token_store.ts";

const ALICE: AccessDecision = { allowed: true, user: { username: "alice", groups: ["devs"] } };

/** A hub handler on a plain loopback server; `member` (when given) is reached through an agent. */
async function hubUnderTest(
  options: {
    access?: AccessDecision;
    member?: Upstream;
    logger?: Logger;
    mayImpersonate?: (check: ImpersonationCheck) => boolean;
    frontProxy?: HubHandlerDeps["frontProxy"];
  } = {},
) {
  const sessions = new AgentSessions();
  let tunnel: InMemoryTunnel | undefined;
  if (options.member) {
    tunnel = inMemoryTunnel("c1", options.member);
    sessions.add(tunnel.agent);
  }
  const checks: { authorization: string | undefined; cluster: string; method: string }[] = [];
  const authentications: (string | undefined)[] = [];
  const authorized: { user: string; cluster: string; method: string }[] = [];
  const decision = options.access ?? ALICE;
  const deps: HubHandlerDeps = {
    sessions,
    access: {
      // A 401 comes from authentication, a 403 from the SubjectAccessReview after it.
      authenticate(authorization) {
        authentications.push(authorization);
        return Promise.resolve(decision.allowed || decision.code === 403 ? ALICE : decision);
      },
      authorize(user, cluster, method) {
        checks.push({ authorization: authentications.at(-1), cluster, method });
        authorized.push({ user: user.username, cluster, method });
        return Promise.resolve(options.access ?? { allowed: true, user });
      },
      mayImpersonate: (_user, check) => Promise.resolve(options.mayImpersonate?.(check) ?? false),
      checkPath: () => Promise.resolve(decision),
    },
    ...(options.frontProxy ? { frontProxy: options.frontProxy } : {}),
    tokens: NO_TOKENS,
    onAgentChange() {},
    notReady: () => undefined,
    metrics: createMetricsRegistry(),
    // c1 is registered (it may have no agent connected); other names are not.
    registeredClusters: () => new Set(["c1"]),
    logger: options.logger ?? silentLogger,
  };
  const handler = createHubHandler(deps);
  const server = await servePlainHttp1({
    request: (req, res) => handler.handleRequest(req, res),
    upgrade: (req, socket, head) => handler.handleUpgrade(req, socket, head),
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    server,
    checks,
    authentications,
    authorized,
    metrics: deps.metrics,
    async close() {
      await tunnel?.close();
      await server.close();
    },
  };
}

Deno.test("the hub refuses a caller the host does not authenticate: 401, and counts it", async () => {
  const hub = await hubUnderTest({
    access: { allowed: false, code: 401, message: "Unauthorized: the token was not accepted" },
  });
  try {
    const response = await fetch(`${hub.url}/clusters/c1/api/v1/pods`, {
      headers: { authorization: "Bearer nope" },
    });
    const status = await response.json();
    assertEquals(response.status, 401);
    assertEquals(status.message, "Unauthorized: the token was not accepted");
    assertEquals(hub.authentications, ["Bearer nope"]);
    assertEquals(hub.checks, []);
    assertStringIncludes(
      hub.metrics.render(),
      'mca_hub_requests_total{cluster="c1",code="401"} 1',
    );
    assertStringIncludes(
      hub.metrics.render(),
      'mca_hub_request_duration_seconds_count{cluster="c1",code="401"} 1',
    );
  } finally {
    await hub.close();
  }
});

Deno.test("requests naming clusters nobody registered share one metric label, whoever sends them", async () => {
  const hub = await hubUnderTest({
    access: { allowed: false, code: 401, message: "Unauthorized: the token was not accepted" },
  });
  try {
    // Anyone can make up names: each used to add a series to mca_hub_requests_total and its
    // histogram, without bound.
    for (let i = 0; i < 50; i++) {
      const response = await fetch(`${hub.url}/clusters/made-up-${i}/api`);
      assertEquals(response.status, 401);
      await response.body?.cancel();
    }
    const text = hub.metrics.render();
    assert(!text.includes("made-up"), text);
    assertStringIncludes(
      text,
      'mca_hub_requests_total{cluster="(unregistered)",code="401"} 50',
    );
  } finally {
    await hub.close();
  }
});

Deno.test("the hub refuses a caller not allowed clusters/proxy on the cluster: 403", async () => {
  const hub = await hubUnderTest({
    access: { allowed: false, code: 403, message: 'Forbidden: user "bob" cannot get' },
  });
  try {
    const response = await fetch(`${hub.url}/clusters/c1/api`, { method: "DELETE" });
    const status = await response.json();
    assertEquals(response.status, 403);
    assertEquals(status.reason, "Forbidden");
    assertEquals(hub.checks[0]?.method, "DELETE");
  } finally {
    await hub.close();
  }
});

Deno.test("the hub answers 503 for a cluster without a connected agent", async () => {
  const hub = await hubUnderTest();
  try {
    const response = await fetch(`${hub.url}/clusters/c1/api`);
    const status = await response.json();
    assertEquals(response.status, 503);
    assertEquals(status.message, 'Cluster "c1" has no connected agent');
    assertStringIncludes(hub.metrics.render(), 'mca_hub_requests_total{cluster="c1",code="503"} 1');
  } finally {
    await hub.close();
  }
});

Deno.test("the hub refuses a forwarded identity from anyone but a replica: 401", async () => {
  const member = fakeMember("c1", { answer: { status: 200, body: "secret" } });
  const hub = await hubUnderTest({ member: member.upstream });
  try {
    const response = await fetch(`${hub.url}/clusters/c1/api`, {
      headers: { "x-mca-forwarded-identity": JSON.stringify({ username: "system:admin" }) },
    });
    assertEquals(response.status, 401);
    await response.body?.cancel();
    assertEquals(member.upstream.requests.length, 0);
    assertEquals(hub.checks.length, 0);
  } finally {
    await hub.close();
  }
});

Deno.test("the hub relays a GET through the cluster's agent, impersonating the caller", async () => {
  const member = fakeMember("c1", {
    answer: {
      status: 200,
      headers: { "content-type": "application/json", "audit-id": "5f0c-audit" },
      body: '{"kind":"PodList"}',
    },
  });
  const lines: string[] = [];
  const logger = createLogger({ level: "debug", write: (line) => lines.push(line) });
  const hub = await hubUnderTest({ member: member.upstream, logger });
  try {
    const response = await fetch(`${hub.url}/clusters/c1/api/v1/pods?limit=1`, {
      headers: { authorization: "Bearer alices-token" },
    });
    assertEquals(response.status, 200);
    assertEquals(response.headers.get("x-mca-cluster"), "c1");
    assertEquals(await response.text(), '{"kind":"PodList"}');
    const [request] = member.upstream.requests;
    assertEquals(request?.path, "/api/v1/pods?limit=1");
    assertEquals(request?.headers["impersonate-user"], ["alice"]);
    assertEquals(request?.headers["impersonate-group"], ["devs"]);
    assertEquals(request?.headers["authorization"], undefined);
    const text = hub.metrics.render();
    assertStringIncludes(text, 'mca_hub_requests_total{cluster="c1",code="200"} 1');
    assertStringIncludes(text, 'mca_hub_request_duration_seconds_count{cluster="c1",code="200"} 1');
    const logged = lines.map((line) => JSON.parse(line)).find((line) => line.msg === "request");
    assertEquals(logged?.auditId, "5f0c-audit");
  } finally {
    await hub.close();
  }
});

runUpgradeCases("the hub through an agent", "c1", async (member): Promise<UpgradePath> => {
  const hub = await hubUnderTest({ member });
  return {
    open: async (early) =>
      await rawHttpExchange(
        await hub.server.connect(),
        "GET /clusters/c1/api/v1/namespaces/default/pods/p/exec?command=sh HTTP/1.1\r\n" +
          "Host: hub\r\nAuthorization: Bearer alices-token\r\nConnection: Upgrade\r\n" +
          "Upgrade: websocket\r\n\r\n" + early,
      ),
    close: () => hub.close(),
  };
});

Deno.test("the hub honours impersonation the host allows, mapped, and logs caller and member at info", async () => {
  const member = fakeMember("c1", { answer: { status: 200, body: "{}" } });
  const lines: string[] = [];
  const logger = createLogger({ level: "info", write: (line) => lines.push(line) });
  const allowed: ImpersonationCheck[] = [];
  const hub = await hubUnderTest({
    member: member.upstream,
    logger,
    mayImpersonate: (check) => {
      allowed.push(check);
      return check.name !== "system:masters";
    },
  });
  try {
    const refused = await fetch(`${hub.url}/clusters/c1/api`, {
      headers: [["Impersonate-User", "bob"], ["impersonate-group", "system:masters"]],
    });
    assertEquals(refused.status, 403);
    assertStringIncludes(
      (await refused.json()).message,
      'cannot impersonate groups "system:masters"',
    );
    assertEquals(member.upstream.requests.length, 0);

    const response = await fetch(`${hub.url}/clusters/c1/api`, {
      headers: [
        ["Impersonate-User", "system:serviceaccount:ns:robot"],
        ["Impersonate-Extra-Scopes", "view"],
      ],
    });
    assertEquals(response.status, 200);
    await response.body?.cancel();
    const [request] = member.upstream.requests;
    assertEquals(request?.headers["impersonate-user"], ["mca:host:system:serviceaccount:ns:robot"]);
    assertEquals(request?.headers["impersonate-group"], [
      "mca:host:system:serviceaccounts",
      "mca:host:system:serviceaccounts:ns",
      "system:authenticated",
    ]);
    assertEquals(request?.headers["impersonate-extra-scopes"], ["view"]);
    const logged = lines.map((line) => JSON.parse(line)).find((line) => line.msg === "request");
    assertEquals(logged?.level, "info");
    assertEquals(logged?.user, "alice");
    assertEquals(logged?.impersonating, "system:serviceaccount:ns:robot");
    assertEquals(logged?.memberUser, "mca:host:system:serviceaccount:ns:robot");
    assertEquals(logged?.cluster, "c1");
  } finally {
    await hub.close();
  }
});

/** A front proxy the listener would have verified, naming `bob` (or refusing). */
function frontProxyNaming(refuse = false): HubHandlerDeps["frontProxy"] {
  return {
    config: () => undefined,
    authenticate: () =>
      refuse
        ? { kind: "refuse", code: 401, message: "Unauthorized: not the front proxy" }
        : { kind: "user", user: { username: "bob", groups: ["system:authenticated"] } },
  };
}

const AGGREGATED = "/apis/proxy.mca.k8s.io/v1alpha1/clusters/c1/proxy";

Deno.test("the aggregated entrance takes the front proxy's caller, authorizes it and maps the path", async () => {
  const member = fakeMember("c1", { answer: { status: 200, body: "{}" } });
  const hub = await hubUnderTest({ member: member.upstream, frontProxy: frontProxyNaming() });
  try {
    const response = await fetch(`${hub.url}${AGGREGATED}/api/v1/pods?watch=1`, {
      headers: { "x-remote-user": "bob", "x-remote-group": "system:authenticated" },
    });
    assertEquals(response.status, 200);
    await response.body?.cancel();
    assertEquals(hub.authentications, [], "no TokenReview at this entrance");
    assertEquals(hub.authorized, [{ user: "bob", cluster: "c1", method: "GET" }]);
    const [request] = member.upstream.requests;
    assertEquals(request?.path, "/api/v1/pods?watch=1");
    assertEquals(request?.headers["impersonate-user"], ["bob"]);
    assertEquals(
      request?.headers["x-remote-user"],
      undefined,
      "identity headers never reach members",
    );
    assertEquals(request?.headers["x-remote-group"], undefined);
  } finally {
    await hub.close();
  }
});

Deno.test("the aggregated entrance refuses 401 what the front-proxy check refuses, and without it", async () => {
  for (const frontProxy of [frontProxyNaming(true), undefined]) {
    const member = fakeMember("c1", { answer: { status: 200, body: "{}" } });
    const hub = await hubUnderTest({
      member: member.upstream,
      ...(frontProxy ? { frontProxy } : {}),
    });
    try {
      const response = await fetch(`${hub.url}${AGGREGATED}/api/v1/pods`, {
        headers: { "x-remote-user": "mca-admin", authorization: "Bearer alices-token" },
      });
      assertEquals(response.status, 401);
      assertEquals((await response.json()).kind, "Status");
      assertEquals(hub.authentications, [], "a bearer token is no way in at this entrance");
      assertEquals(member.upstream.requests.length, 0);
    } finally {
      await hub.close();
    }
  }
});

Deno.test("the direct entrance ignores X-Remote-* headers and never passes them on", async () => {
  const member = fakeMember("c1", { answer: { status: 200, body: "{}" } });
  const hub = await hubUnderTest({ member: member.upstream, frontProxy: frontProxyNaming() });
  try {
    const response = await fetch(`${hub.url}/clusters/c1/api/v1/pods`, {
      headers: {
        authorization: "Bearer alices-token",
        "x-remote-user": "mca-admin",
        "X-Remote-Extra-Scopes": "all",
      },
    });
    assertEquals(response.status, 200);
    await response.body?.cancel();
    const [request] = member.upstream.requests;
    assertEquals(request?.headers["impersonate-user"], ["alice"]);
    assertEquals(request?.headers["x-remote-user"], undefined);
    assertEquals(request?.headers["x-remote-extra-scopes"], undefined);
  } finally {
    await hub.close();
  }
});

Deno.test("the hub answers the aggregator's discovery without a caller, and 404 elsewhere under /apis", async () => {
  const hub = await hubUnderTest({ frontProxy: frontProxyNaming(true) });
  try {
    const list = await fetch(`${hub.url}/apis/proxy.mca.k8s.io/v1alpha1`);
    assertEquals(list.status, 200);
    assertEquals((await list.json()).kind, "APIResourceList");
    for (
      const path of ["/openapi/v3/apis/x", "/apis/apps/v1", `${AGGREGATED.replace("/proxy", "")}`]
    ) {
      const missing = await fetch(`${hub.url}${path}`);
      assertEquals(missing.status, 404, path);
      assertEquals((await missing.json()).kind, "Status");
    }
  } finally {
    await hub.close();
  }
});
