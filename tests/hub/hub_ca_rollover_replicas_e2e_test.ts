/**
 * Two hub replicas share the CA Secret through a rollover: both follow each phase, agree on the
 * CA they serve with and the CAs they trust, and keep forwarding to each other over mutual TLS
 * (replica B reaches the member through replica A, which holds its agent) with no failed request.
 */
import { assert, assertEquals } from "../_utils/assert.ts";
import { e2eTest } from "../_utils/e2e.ts";
import {
  connections,
  holding,
  hubCaSecret,
  installMember,
  rotate,
  servedBy,
} from "../_utils/hub_ca_rollover.ts";
import { startHubFixture } from "../_utils/hub_fixture.ts";
import { type HubProcess, startHubProcess } from "../_utils/hub_process.ts";
import { startMca } from "../_utils/mca_process.ts";
import { type RequestLoad, startRequestLoad } from "../_utils/request_load.ts";
import { tempDir } from "../_utils/temp_dir.ts";
import { computeCaPin } from "../../src/pki/mod.ts";
import { waitFor } from "../../src/common/mod.ts";

const ARGS = ["--ca-check-interval=1s"];

/** Waits until every listener of both replicas serves a certificate `caPem` verifies. */
function allServedBy(replicas: HubProcess[], caPem: string, what: string) {
  const ports = replicas.flatMap((hub) => [hub.port, ...(hub.peerPort ? [hub.peerPort] : [])]);
  return waitFor(async () => {
    const served = await Promise.all(ports.map((port) => servedBy(port, caPem)));
    return served.every(Boolean) || undefined;
  }, { description: what });
}

e2eTest(
  "hub replicas follow a CA rollover together and keep forwarding to each other under load",
  async (env) => {
    const host = env.cluster("host");
    await using dir = await tempDir();
    const fixture = await startHubFixture(env, dir.path, { replicaId: "a", hubArgs: ARGS });
    const b = await startHubProcess(host, dir.path, {
      namespace: fixture.namespace,
      replica: { id: "b" },
      args: ARGS,
    });
    const a = fixture.hub;
    const member = await installMember(fixture, { host, member: env.cluster("east"), dir });
    const agent = await startMca(member.agentArgs({ trustSecret: true }), {
      dir: dir.path,
      name: "agent",
    });
    const loads: RequestLoad[] = [];
    try {
      await waitFor(async () => (await a.agents(member.name)) === 1, {
        description: "the agent on replica A",
      });
      const oldCa = a.caPem;
      let clientTrust = oldCa;
      for (const hub of [a, b]) {
        loads.push(startRequestLoad(
          `${hub.url}/clusters/${member.name}/api/v1/namespaces/default`,
          { token: host.adminToken, trust: () => clientTrust, workers: 2 },
        ));
      }
      // Through B the request is forwarded to A (B holds no agent).
      await waitFor(() => loads.every((load) => load.ok() > 10) || undefined, {
        description: "requests through both replicas",
      });

      const prepared = await rotate(host, fixture.namespace, "prepare");
      assertEquals(prepared.code, 0, prepared.stderr);
      const [oldPin, newPin] = prepared.stdout.trim().split("\n");
      clientTrust = (await hubCaSecret(host, fixture.namespace))["ca-bundle.crt"]!;
      await holding(host, member.name, { pins: [oldPin!, newPin!], agents: 1, replica: "a" });

      const switched = await rotate(host, fixture.namespace, "switch");
      assertEquals(switched.code, 0, switched.stderr);
      const newCa = (await hubCaSecret(host, fixture.namespace))["ca.crt"]!;
      assertEquals(await computeCaPin(newCa), newPin);
      await allServedBy([a, b], newCa, "both replicas serving with the new CA");
      const marks = loads.map((load) => load.ok());
      await waitFor(() => loads.every((load, i) => load.ok() > marks[i]! + 20) || undefined, {
        description: "requests through both replicas after the switch",
      });

      const finished = await rotate(host, fixture.namespace, "finish");
      assertEquals(finished.code, 0, finished.stderr);
      clientTrust = newCa;
      await holding(host, member.name, { pins: [newPin!], agents: 1, replica: "a" });
      for (const hub of [a, b]) {
        await waitFor(async () =>
          (await Deno.readTextFile(hub.process.logPath)).split("\n")
              .filter((line) => line.includes("hub CA set changed")).length === 3 || undefined, {
          description: "each replica following the three phases",
        });
      }
      assert(!(await servedBy(b.port, oldCa)), "replica B no longer serves with the old CA");
      const after = loads.map((load) => load.ok());
      await waitFor(() => loads.every((load, i) => load.ok() > after[i]! + 20) || undefined, {
        description: "requests through both replicas after the finish",
      });
    } finally {
      const results = await Promise.all(loads.map((load) => load.stop()));
      results.forEach((result, i) =>
        console.log(
          `replica ${
            "ab"[i]
          } load: ${result.ok} ok, ${result.failed} failed, ${result.clients} clients`,
        )
      );
      await agent.stop();
      await b.stop();
      await fixture.stop();
      for (const result of results) assertEquals(result.failed, 0, result.failures.join("\n"));
    }
    // No reconnect was needed: the agent's session outlived the switch.
    assertEquals(await connections(agent), 1);
  },
);
