/**
 * A hub CA rollover under load, without reinstalling the member: `mca agent install` puts the
 * agent's objects on the member, agents run with exactly what install gave them (the
 * Deployment's flags, its Secret, its ServiceAccount's token and RBAC), and a loop of real
 * requests goes through the hub while `mca hub ca rotate` runs prepare, switch and finish.
 */
import { assert, assertEquals, assertStringIncludes } from "../_utils/assert.ts";
import { e2eTest, kubectlOk } from "../_utils/e2e.ts";
import {
  connections,
  holding,
  hubCaSecret,
  hubCaTrust,
  installMember,
  rotate,
  servedBy,
} from "../_utils/hub_ca_rollover.ts";
import { startHubFixture } from "../_utils/hub_fixture.ts";
import { startMca } from "../_utils/mca_process.ts";
import { startRequestLoad } from "../_utils/request_load.ts";
import { tempDir } from "../_utils/temp_dir.ts";
import { computeCaPin } from "../../src/pki/mod.ts";
import type { ManagedProcess } from "../../src/testenv/mod.ts";
import { waitFor } from "../../src/common/mod.ts";
import { ROTATED_AT_ANNOTATION } from "../../src/agent/agent_secret.ts";

e2eTest(
  "the hub CA rolls over under load: no failed request, agents learn and store the next pin, no reinstall",
  async (env) => {
    const host = env.cluster("host");
    await using dir = await tempDir();
    const fixture = await startHubFixture(env, dir.path, { hubArgs: ["--ca-check-interval=1s"] });
    const agents: ManagedProcess[] = [];
    const startAgent = async (args: string[], name: string) => {
      const agent = await startMca(args, { dir: dir.path, name });
      agents.push(agent);
      return agent;
    };
    try {
      const member = await installMember(fixture, { host, member: env.cluster("east"), dir });
      const first = await startAgent(member.agentArgs({ trustSecret: true }), "agent-1");
      const second = await startAgent(member.agentArgs({ trustSecret: true }), "agent-2");
      // An agent that cannot store what it learns (no --hub-trust-secret) holds the switch back.
      const forgetful = await startAgent(member.agentArgs({ trustSecret: false }), "forgetful");
      await waitFor(async () => (await fixture.hub.agents(member.name)) === 3, {
        description: "three agents connected",
      });
      const oldCa = fixture.hub.caPem;
      const oldPin = await computeCaPin(oldCa);
      let clientTrust = oldCa;
      const load = startRequestLoad(
        `${fixture.hub.url}/clusters/${member.name}/api/v1/namespaces/default`,
        { token: host.adminToken, trust: () => clientTrust },
      );
      try {
        await waitFor(() => load.ok() > 20 || undefined, { description: "the load running" });

        load.phase("prepare");
        const prepared = await rotate(host, fixture.namespace, "prepare");
        assertEquals(prepared.code, 0, prepared.stderr);
        const pins = prepared.stdout.trim().split("\n");
        assertEquals(pins.length, 2, prepared.stdout);
        assertEquals(pins[0], oldPin, "the current CA stays first");
        const newPin = pins[1]!;
        clientTrust = (await hubCaSecret(host, fixture.namespace))["ca-bundle.crt"]!;

        // The agents that store what they learn acknowledge both pins; the forgetful one does not.
        await waitFor(
          async () => (await hubCaTrust(host, member.name))?.agentsHolding === 2 || undefined,
          {
            description: "two agents holding both pins",
          },
        );
        const stored = await agentSecret(env.cluster("east"), member.agentNamespace);
        assertEquals(atob(stored.data["hub-trust-basis-pin"]!), oldPin);
        const early = await rotate(host, fixture.namespace, "switch");
        assertEquals(early.code, 1, "switch must wait for every agent");
        assertStringIncludes(
          early.stderr,
          `Cannot switch yet: not every agent holds the next CA's pin: "${member.name}" (2 of 3 agents hold every pin)`,
        );
        load.phase("agent stopped");
        await forgetful.stop();
        await waitFor(async () => (await fixture.hub.agents(member.name)) === 2 || undefined, {
          description: "the hub to drop the stopped agent",
        });
        load.phase("prepare");
        await holding(host, member.name, { pins: [oldPin, newPin], agents: 2 });

        load.phase("switch");
        const switched = await rotate(host, fixture.namespace, "switch");
        assertEquals(switched.code, 0, switched.stderr);
        const secret = await hubCaSecret(host, fixture.namespace);
        const newCa = secret["ca.crt"]!;
        assertEquals(await computeCaPin(newCa), newPin);
        await waitFor(() => servedBy(fixture.hub.port, newCa).then((ok) => ok || undefined), {
          description: "the hub serving with the new CA",
        });
        assert(!(await servedBy(fixture.hub.port, oldCa)), "the old CA no longer verifies the hub");

        // An agent token rotation after the switch, by agents started before it: the rotation's
        // call verifies the hub with the CAs learned since, as the tunnel does.
        await kubectlOk(env.cluster("east"), [
          "annotate",
          "--overwrite",
          "secret",
          "mca-agent",
          "-n",
          member.agentNamespace,
          `${ROTATED_AT_ANNOTATION}=2000-01-01T00:00:00Z`,
        ]);
        await waitFor(async () => {
          const logs = await Promise.all([first, second].map((a) => Deno.readTextFile(a.logPath)));
          return logs.some((log) => log.includes("agent token rotated")) || undefined;
        }, { description: "an agent started before the switch to rotate its token" });

        // A restarted agent connects to the hub serving with the new CA: it stored the new pin.
        load.phase("agent stopped");
        await first.stop();
        await waitFor(async () => (await fixture.hub.agents(member.name)) === 1 || undefined, {
          description: "the hub to drop the stopped agent",
        });
        load.phase("switch");
        const restarted = await startAgent(member.agentArgs({ trustSecret: true }), "agent-1b");
        await waitFor(async () => await connections(restarted) === 1 || undefined, {
          description: "the restarted agent connected",
        });
        // An agent never told about the next CA refuses the hub serving with it.
        const unaware = await startAgent(member.agentArgs({ trustSecret: false }), "unaware");
        await waitFor(
          async () =>
            (await Deno.readTextFile(unaware.logPath)).includes("cannot connect to the hub") ||
            undefined,
          { description: "the unaware agent refusing the hub" },
        );
        assertEquals(await connections(unaware), 0);
        await unaware.stop();

        load.phase("finish");
        const finished = await rotate(host, fixture.namespace, "finish");
        assertEquals(finished.code, 0, finished.stderr);
        assertEquals(finished.stdout.trim(), newPin);
        clientTrust = newCa;
        await holding(host, member.name, { pins: [newPin], agents: 2 });
        const storedAfter = await agentSecret(env.cluster("east"), member.agentNamespace);
        assertEquals(atob(storedAfter.data["hub-trust.crt"]!).trim(), newCa.trim());
        const okBefore = load.ok();
        await waitFor(() => load.ok() > okBefore + 20 || undefined, {
          description: "requests after the finish",
        });
      } finally {
        const result = await load.stop();
        console.log(
          `rollover load: ${result.ok} ok, ${result.failed} failed ${
            JSON.stringify(result.failedIn)
          }, ${result.clients} clients (new TLS connections)`,
        );
        // Stopping an agent under load is not the rollover (its drain is measured, not asserted).
        const { ["agent stopped"]: _, ...rollover } = result.failedIn;
        assertEquals(rollover, {}, [...result.phases, ...result.failures].join("\n"));
      }
      // The rollover kept the untouched agent's session: it never had to reconnect.
      assertEquals(await connections(second), 1);
    } catch (error) {
      for (const agent of agents) {
        console.error(
          `--- ${agent.logPath}\n${(await Deno.readTextFile(agent.logPath)).slice(-3000)}`,
        );
      }
      console.error(
        `--- hub\n${(await Deno.readTextFile(fixture.hub.process.logPath)).slice(-4000)}`,
      );
      throw error;
    } finally {
      await Promise.all(agents.map((agent) => agent.stop()));
      await fixture.stop();
    }
  },
);

/** The agent's own Secret on the member, where it stores the CAs it learned. */
async function agentSecret(
  east: Parameters<typeof kubectlOk>[0],
  namespace: string,
): Promise<{ data: Record<string, string> }> {
  return JSON.parse(
    await kubectlOk(east, ["get", "secret", "mca-agent", "-n", namespace, "-o", "json"]),
  );
}
