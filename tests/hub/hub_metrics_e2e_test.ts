/** The hub's agent gauges against the real host: registered clusters come from the token Secrets. */
import { assertStringIncludes } from "../_utils/assert.ts";
import { e2eTest, kubectlOk } from "../_utils/e2e.ts";
import { startHubFixture } from "../_utils/hub_fixture.ts";
import { tempDir } from "../_utils/temp_dir.ts";
import { waitFor } from "../../src/common/mod.ts";
import { agentTokenSecretName } from "../../src/members/mod.ts";

e2eTest(
  "mca_hub_agents shows a registered cluster at 0 until its agent connects, and drops it with its token",
  async (env) => {
    await using dir = await tempDir();
    const fixture = await startHubFixture(env, dir.path);
    try {
      const name = await fixture.registerMember(env.cluster("east"));
      const series = `mca_hub_agents{cluster="${name}"}`;
      const shows = (text: string) => async () => (await fixture.hub.metrics()).includes(text);
      await waitFor(shows(`${series} 0\n`), {
        timeoutMs: 15_000,
        description: `${series} 0 for the registered, unconnected cluster`,
      });
      const agent = await fixture.connectAgent(name);
      const connected = await fixture.hub.metrics();
      assertStringIncludes(connected, `${series} 1\n`);
      assertStringIncludes(connected, `mca_hub_agent_connections_total{cluster="${name}"} 1\n`);
      await agent.stop();
      await waitFor(shows(`${series} 0\n`), {
        timeoutMs: 15_000,
        description: `${series} back to 0 once the agent left`,
      });
      await kubectlOk(env.cluster("host"), [
        "delete",
        "secret",
        agentTokenSecretName(name),
        "-n",
        fixture.namespace,
      ]);
      await waitFor(async () => !(await fixture.hub.metrics()).includes(series), {
        timeoutMs: 15_000,
        description: `${series} gone with the cluster's token Secret`,
      });
    } finally {
      await fixture.stop();
    }
  },
);
