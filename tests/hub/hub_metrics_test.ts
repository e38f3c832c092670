import { assert, assertStringIncludes } from "../_utils/assert.ts";
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
