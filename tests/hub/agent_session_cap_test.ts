/**
 * A valid agent token (stolen, or an agent in a loop) cannot make a hub replica hold sessions
 * without bound: beyond MAX_SESSIONS_PER_CLUSTER the connect is answered 429, and a session
 * that ends makes room again.
 */
// @ts-types="npm:@types/ws@8.18.1"
import { WebSocket } from "ws";
import { assertEquals, assertStringIncludes } from "../_utils/assert.ts";
import { testHubDeps } from "../_utils/hub_deps.ts";
import { servePlainHttp1 } from "../_utils/plain_http1.ts";
import { NO_TOKENS } from "../_utils/token_store.ts";
import { waitFor } from "../../src/common/mod.ts";
import { AgentSessions, createHubHandler } from "../../src/hub/mod.ts";
import { MAX_SESSIONS_PER_CLUSTER } from "../../src/hub/agent_connect.ts";
import { connectHeaders } from "../../src/tunnel/mod.ts";
import { hashToken } from "../../src/tunnel/token_contract.ts";

const TOKEN = "c1-agent-token-that-is-long-enough";

/** Opens a WebSocket to /connect; resolves with it once open, or with the refusal's status. */
function connect(port: number, agentId: string) {
  return new Promise<{ ws: WebSocket } | { status: number; body: string }>((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/connect`, {
      headers: {
        Authorization: `Bearer ${TOKEN}`,
        ...connectHeaders({ cluster: "c1", agentId, memberVersion: "v1.35.0" }),
      },
    });
    ws.once("open", () => resolve({ ws }));
    ws.once("unexpected-response", (_request, response) => {
      let body = "";
      response.on("data", (chunk: Buffer) => body += chunk);
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
    });
    ws.once("error", reject);
  });
}

Deno.test("a hub replica holds at most MAX_SESSIONS_PER_CLUSTER sessions of one cluster, then answers 429", async () => {
  const hash = await hashToken(TOKEN);
  const sessions = new AgentSessions();
  const deps = testHubDeps({
    sessions,
    tokens: {
      ...NO_TOKENS,
      accepted: (cluster) => Promise.resolve(cluster === "c1" ? [hash] : []),
    },
  });
  const handler = createHubHandler(deps);
  const server = await servePlainHttp1({
    request: (req, res) => handler.handleRequest(req, res),
    upgrade: (req, socket, head) => handler.handleUpgrade(req, socket, head),
  });
  const open: WebSocket[] = [];
  try {
    for (let i = 0; i < MAX_SESSIONS_PER_CLUSTER; i++) {
      const result = await connect(server.port, `agent-${i}`);
      if (!("ws" in result)) throw new Error(`session ${i} refused: ${result.status}`);
      open.push(result.ws);
    }
    assertEquals(sessions.sessionsOf("c1").length, MAX_SESSIONS_PER_CLUSTER);
    const refused = await connect(server.port, "one-too-many");
    assertEquals("status" in refused ? refused.status : 101, 429);
    assertStringIncludes("body" in refused ? refused.body : "", "agent sessions");
    assertEquals(sessions.sessionsOf("c1").length, MAX_SESSIONS_PER_CLUSTER);

    open.shift()!.close();
    await waitFor(() => sessions.sessionsOf("c1").length < MAX_SESSIONS_PER_CLUSTER || undefined, {
      description: "a session to end",
    });
    const again = await connect(server.port, "after-one-ended");
    if (!("ws" in again)) throw new Error(`refused after a session ended: ${again.status}`);
    open.push(again.ws);
  } finally {
    for (const ws of open) ws.terminate();
    await waitFor(() => sessions.clusters().length === 0 || undefined, {
      description: "every session to end",
    }).catch(() => {});
    await server.close();
  }
});
