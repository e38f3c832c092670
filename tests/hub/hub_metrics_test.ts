import { assert, assertEquals, assertStringIncludes } from "../_utils/assert.ts";
import { fakeRequest, FakeResponse } from "../_utils/fake_exchange.ts";
import { fakeMember } from "../_utils/fake_member.ts";
import { inMemoryTunnel } from "../_utils/in_memory_tunnel.ts";
import { AgentSessions, createHubHandler } from "../../src/hub/mod.ts";
import { silentLogger } from "../../src/log/mod.ts";
import { createMetricsRegistry } from "../../src/metrics/mod.ts";
import { NO_TOKENS } from "../_utils/token_store.ts";

Deno.test("mca_hub_agents shows every registered cluster, 0 without agents, and drops unregistered ones", async () => {
  const sessions = new AgentSessions();
  const tunnel = inMemoryTunnel("east", fakeMember("east", {}).upstream);
  sessions.add(tunnel.agent);
  const registered = new Set(["east", "west"]);
  const metrics = createMetricsRegistry();
  createHubHandler({
    sessions,
    access: {
      authenticate: () => Promise.reject(new Error("not called")),
      authorize: () => Promise.reject(new Error("not called")),
      mayImpersonate: () => Promise.reject(new Error("not called")),
      checkPath: () => Promise.reject(new Error("not called")),
    },
    tokens: NO_TOKENS,
    onAgentChange() {},
    notReady: () => undefined,
    metrics,
    registeredClusters: () => registered,
    logger: silentLogger,
  });
  try {
    let text = metrics.render();
    assertStringIncludes(text, 'mca_hub_agents{cluster="east"} 1');
    assertStringIncludes(text, 'mca_hub_agents{cluster="west"} 0');
    assertStringIncludes(text, "# TYPE mca_hub_agent_connections_total counter");
    registered.delete("west");
    text = metrics.render();
    assert(!text.includes('cluster="west"'), `west is no longer registered:\n${text}`);
    assertStringIncludes(text, 'mca_hub_agents{cluster="east"} 1');
  } finally {
    await tunnel.close();
  }
});

Deno.test("/metrics answers 503 without the host's error when it cannot check the caller", async () => {
  const logged: string[] = [];
  const handler = createHubHandler({
    sessions: new AgentSessions(),
    access: {
      authenticate: () => Promise.reject(new Error("not called")),
      authorize: () => Promise.reject(new Error("not called")),
      mayImpersonate: () => Promise.reject(new Error("not called")),
      checkPath: () => Promise.reject(new Error("connect ECONNREFUSED 10.96.0.1:443")),
    },
    tokens: NO_TOKENS,
    onAgentChange() {},
    notReady: () => undefined,
    metrics: createMetricsRegistry(),
    logger: {
      ...silentLogger,
      warn: (message, fields) => logged.push(`${message} ${JSON.stringify(fields)}`),
    },
  });
  const res = new FakeResponse();
  handler.handleRequest(
    fakeRequest("GET", "/metrics") as unknown as Parameters<typeof handler.handleRequest>[0],
    res,
  );
  await res.done;
  assertEquals(res.status, 503);
  assert(!res.text().includes("10.96.0.1"), `the host's address stays in the log: ${res.text()}`);
  assertStringIncludes(logged.join("\n"), "10.96.0.1");
});
