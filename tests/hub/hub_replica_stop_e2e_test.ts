/**
 * A hub replica stopping with `--shutdown-delay` hands its agent to the other replica without
 * failing a request. A TCP relay plays the Service: agent and callers dial it, and it switches
 * new connections to the other replica once the stopping one turns unready (as endpoints do).
 */
import { assert, assertEquals, assertStringIncludes } from "../_utils/assert.ts";
import { e2eTest } from "../_utils/e2e.ts";
import { startHubFixture } from "../_utils/hub_fixture.ts";
import { type HubProcess, startHubProcess } from "../_utils/hub_process.ts";
import { startRequestLoad } from "../_utils/request_load.ts";
import { tcpRelay } from "../_utils/tcp_relay.ts";
import { tempDir } from "../_utils/temp_dir.ts";
import { freePort } from "../../src/testenv/mod.ts";
import { waitFor } from "../../src/common/mod.ts";

const STOP_ARGS = ["--shutdown-delay=1s"];

e2eTest(
  "a hub replica stopping with --shutdown-delay moves its agent to the other replica and fails no request",
  async (env) => {
    const host = env.cluster("host");
    await using dir = await tempDir();
    const fixture = await startHubFixture(env, dir.path, { replicaId: "a", hubArgs: STOP_ARGS });
    const a = fixture.hub;
    const service = tcpRelay(freePort(), { hostname: "127.0.0.1", port: a.port });
    service.start();
    let b: HubProcess | undefined;
    const ready = async (hub: HubProcess) => {
      const client = Deno.createHttpClient({ caCerts: [hub.caPem] });
      try {
        const response = await fetch(`${hub.url}/readyz`, { client });
        await response.body?.cancel();
        return response.status;
      } catch {
        return 0;
      } finally {
        client.close();
      }
    };
    try {
      b = await startHubProcess(host, dir.path, {
        namespace: fixture.namespace,
        replica: { id: "b" },
        args: STOP_ARGS,
      });
      const member = await fixture.registerMember(env.cluster("east"));
      const agent = await fixture.startAgent(member, {
        hubUrl: `https://127.0.0.1:${service.port}`,
      });
      await waitFor(async () => (await a.agents(member)) === 1, {
        description: "the agent on replica a",
      });
      const load = startRequestLoad(
        `https://127.0.0.1:${service.port}/clusters/${member}/api/v1/namespaces/default`,
        { token: host.adminToken, trust: () => a.caPem, workers: 3, requestsPerClient: 10 },
      );
      try {
        await waitFor(() => load.ok() > 50 || undefined, { description: "requests through a" });
        load.phase("replica a stopping");
        const stopping = a.stop();
        const stopStarted = Date.now();
        stopping.then(() => console.log(`replica a stopped after ${Date.now() - stopStarted} ms`));
        await waitFor(async () => (await ready(a)) !== 200 || undefined, {
          description: "replica a to turn unready",
        });
        // The endpoints drop it: new connections reach b.
        service.retarget({ hostname: "127.0.0.1", port: b.port });
        await stopping;
        load.phase("after");
        const mark = load.ok();
        await waitFor(() => load.ok() > mark + 50 || undefined, {
          description: "requests through b",
        });
      } finally {
        const result = await load.stop();
        console.log(`replica stop load: ${result.ok} ok, ${result.failed} failed`);
        assertEquals(result.failed, 0, `failed requests:\n${result.failures.join("\n")}`);
      }
      assertEquals(await b.agents(member), 1, "the agent is on replica b");
      const agentLog = await Deno.readTextFile(agent.process.logPath);
      assertStringIncludes(agentLog, "hub replica stopping");
      const aLog = await Deno.readTextFile(a.process.logPath);
      assert(/agents moved to other replicas.*clusters=1/.test(aLog), aLog.slice(-3000));
      assertEquals(
        await a.process.exited,
        0,
        `replica a exited cleanly:\n${await a.process.tail(40)}`,
      );
    } finally {
      service.stop();
      await b?.stop();
      await fixture.stop();
    }
  },
);
