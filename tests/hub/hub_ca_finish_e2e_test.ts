/**
 * `mca hub ca rotate --phase finish` waits for the hub to serve with the new CA: agents that
 * dropped the previous CA could not reconnect to a hub still serving with it. The hub here reads
 * its CA Secret only at start (--ca-check-interval=1h), so each phase reaches it by a restart.
 */
import { assertEquals, assertStringIncludes } from "../_utils/assert.ts";
import { e2eTest } from "../_utils/e2e.ts";
import {
  holding,
  hubCaSecret,
  installMember,
  rotate,
  servedBy,
} from "../_utils/hub_ca_rollover.ts";
import { startHubFixture } from "../_utils/hub_fixture.ts";
import { startMca } from "../_utils/mca_process.ts";
import { tempDir } from "../_utils/temp_dir.ts";
import { computeCaPin } from "../../src/pki/mod.ts";
import { waitFor } from "../../src/common/mod.ts";

e2eTest(
  "the CA rollover's finish is refused while the hub still serves with the previous CA",
  async (env) => {
    const host = env.cluster("host");
    await using dir = await tempDir();
    const fixture = await startHubFixture(env, dir.path, { hubArgs: ["--ca-check-interval=1h"] });
    const member = await installMember(fixture, { host, member: env.cluster("east"), dir });
    const agent = await startMca(member.agentArgs({ trustSecret: true }), {
      dir: dir.path,
      name: "agent",
    });
    try {
      const oldPin = await computeCaPin(fixture.hub.caPem);
      const prepared = await rotate(host, fixture.namespace, "prepare");
      assertEquals(prepared.code, 0, prepared.stderr);
      const newPin = prepared.stdout.trim().split("\n")[1]!;
      // The hub learns the prepared CA at its start; its agent reconnects and stores both pins.
      await fixture.restartHub();
      await holding(host, member.name, { pins: [oldPin, newPin], agents: 1 });
      const switched = await rotate(host, fixture.namespace, "switch");
      assertEquals(switched.code, 0, switched.stderr);

      // The hub has not read the switch: it still signs with the previous CA.
      const early = await rotate(host, fixture.namespace, "finish");
      assertEquals(early.code, 1, "finish must wait for the hub to serve with the new CA");
      assertStringIncludes(
        early.stderr,
        `Cannot finish yet: not every hub replica serves with the new CA: "${member.name}" (hub replica(s) hub still serve with another CA)`,
      );
      assertEquals(
        (await hubCaSecret(host, fixture.namespace))["previous-ca.crt"] !== undefined,
        true,
        "a refused finish changes nothing",
      );

      await fixture.restartHub();
      const newCa = (await hubCaSecret(host, fixture.namespace))["ca.crt"]!;
      await waitFor(() => servedBy(fixture.hub.port, newCa).then((ok) => ok || undefined), {
        description: "the restarted hub serving with the new CA",
      });
      await holding(host, member.name, { pins: [newPin, oldPin], agents: 1 });
      const finished = await rotate(host, fixture.namespace, "finish");
      assertEquals(finished.code, 0, finished.stderr);
      assertEquals(finished.stdout.trim(), newPin);
    } finally {
      await agent.stop();
      await fixture.stop();
    }
  },
);
