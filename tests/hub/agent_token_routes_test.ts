import { assertEquals, assertStringIncludes } from "../_utils/assert.ts";
import { servePlainHttp1 } from "../_utils/plain_http1.ts";
import { AgentSessions, createHubHandler, type HubHandlerDeps } from "../../src/hub/mod.ts";
import { silentLogger } from "../../src/log/mod.ts";
import { createMetricsRegistry } from "../../src/metrics/mod.ts";
import { AGENT_CLUSTER_HEADER, hashToken } from "../../src/tunnel/mod.ts";
import { waitFor } from "../../src/common/mod.ts";

const NEXT = "c".repeat(64);

/** The hub's handler with a token store that accepts "good" (join) and "current" (rotations). */
async function hubUnderTest(options: { agentBodyTimeoutMs?: number } = {}) {
  const calls: string[] = [];
  const current = await hashToken("current");
  const deps: HubHandlerDeps = {
    sessions: new AgentSessions(),
    access: {
      authenticate: () => Promise.reject(new Error("not called")),
      authorize: () => Promise.reject(new Error("not called")),
      mayImpersonate: () => Promise.reject(new Error("not called")),
      checkPath: () => Promise.reject(new Error("not called")),
    },
    tokens: {
      accepted: () => Promise.resolve([]),
      join(token, cluster) {
        calls.push(`join ${cluster}`);
        return Promise.resolve(
          token === "good" ? { token: "agent-token" } : { refusal: "used" as const },
        );
      },
      rotate(cluster, presented, next) {
        calls.push(`rotate ${cluster} ${next === NEXT}`);
        return Promise.resolve(presented === current ? "rotated" as const : "refused" as const);
      },
      dropPrevious(cluster, presented) {
        calls.push(`drop ${cluster}`);
        return Promise.resolve(presented === current);
      },
      overlapMs: 120_000,
    },
    onAgentChange() {},
    notReady: () => undefined,
    metrics: createMetricsRegistry(),
    logger: silentLogger,
    ...options,
  };
  const handler = createHubHandler(deps);
  const server = await servePlainHttp1({
    request: (req, res) => handler.handleRequest(req, res),
    upgrade: (req, socket, head) => handler.handleUpgrade(req, socket, head),
  });
  const call = async (
    method: string,
    path: string,
    { token, cluster = "west", body }: { token?: string; cluster?: string; body?: string } = {},
  ) => {
    const response = await fetch(`http://127.0.0.1:${server.port}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        [AGENT_CLUSTER_HEADER]: cluster,
      },
      ...(body !== undefined ? { body } : {}),
    });
    return { code: response.status, body: await response.json() };
  };
  return { call, calls, connect: () => server.connect(), close: () => server.close() };
}

Deno.test("POST /agent/join: the agent token for a good join token, the refusal's message otherwise", async () => {
  const hub = await hubUnderTest();
  try {
    const joined = await hub.call("POST", "/agent/join", { token: "good" });
    assertEquals(joined, { code: 200, body: { token: "agent-token" } });
    const refused = await hub.call("POST", "/agent/join", { token: "reused" });
    assertEquals(refused.code, 401);
    assertStringIncludes(refused.body.message, "The join token was already used");
    assertEquals(hub.calls, ["join west", "join west"]);
  } finally {
    await hub.close();
  }
});

Deno.test("the agent token routes refuse a wrong method, no token or a bad cluster before the store", async () => {
  const hub = await hubUnderTest();
  try {
    assertEquals((await hub.call("GET", "/agent/join", { token: "good" })).code, 405);
    assertEquals((await hub.call("POST", "/agent/token/previous", { token: "x" })).code, 405);
    assertEquals((await hub.call("POST", "/agent/join")).code, 401);
    assertEquals(
      (await hub.call("POST", "/agent/join", { token: "good", cluster: "A_B" })).code,
      400,
    );
    assertEquals(hub.calls, []);
  } finally {
    await hub.close();
  }
});

Deno.test("POST /agent/token rotates with the current token and a well-formed hash only", async () => {
  const hub = await hubUnderTest();
  try {
    const body = JSON.stringify({ tokenSha256: NEXT });
    assertEquals(await hub.call("POST", "/agent/token", { token: "current", body }), {
      code: 200,
      body: { overlapSeconds: 120 },
    });
    assertEquals((await hub.call("POST", "/agent/token", { token: "stolen", body })).code, 401);
    for (const bad of ["", "{", JSON.stringify({ tokenSha256: "abc" }), "x".repeat(5000)]) {
      const answer = await hub.call("POST", "/agent/token", { token: "current", body: bad });
      assertEquals(answer.code, 400, bad.slice(0, 20));
      assertStringIncludes(answer.body.message, "tokenSha256");
    }
    assertEquals(
      (await hub.call("DELETE", "/agent/token/previous", { token: "current" })).code,
      200,
    );
    assertEquals((await hub.call("DELETE", "/agent/token/previous", { token: "old" })).code, 401);
    assertEquals(hub.calls, ["rotate west true", "rotate west true", "drop west", "drop west"]);
  } finally {
    await hub.close();
  }
});

Deno.test("POST /agent/token: a body that trickles in is cut at the deadline, before any token is checked", async () => {
  const hub = await hubUnderTest({ agentBodyTimeoutMs: 200 });
  const socket = await hub.connect();
  try {
    let answer = "";
    socket.on("data", (chunk: Buffer) => answer += chunk.toString("latin1"));
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    // No token needed to get here: the old hub waited for the rest of the body for ever.
    socket.write(
      "POST /agent/token HTTP/1.1\r\nHost: hub\r\nAuthorization: Bearer made-up\r\n" +
        `${AGENT_CLUSTER_HEADER}: west\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n{\r\n`,
    );
    await waitFor(() => answer.includes("\r\n\r\n"), {
      description: "an answer to the unfinished body",
      timeoutMs: 5_000,
    });
    assertStringIncludes(answer, "HTTP/1.1 408");
    assertStringIncludes(answer, "The request body did not arrive within 0.2 s");
    await closed;
    assertEquals(hub.calls, []);
  } finally {
    socket.destroy();
    await hub.close();
  }
});
