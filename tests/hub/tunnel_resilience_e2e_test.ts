/** The tunnel under stress: two agents and failover, a hub restart, a stalled stream, an upgrade. */
import { assert, assertEquals } from "../_utils/assert.ts";
import { e2eTest, kubectlOk, uniqueName } from "../_utils/e2e.ts";
import { withHubFixture } from "../_utils/hub_fixture.ts";
import { ECHO_STDIN, execEcho } from "../_utils/exec_echo.ts";
import { apply, oneShotPod, waitForPhase } from "../_utils/pods.ts";
import { waitFor } from "../../src/common/mod.ts";

e2eTest(
  "two agents share the traffic, one can die without errors, and a hub restart is survived",
  (env) =>
    withHubFixture(env, async (fixture) => {
      const east = env.cluster("east");
      const host = env.cluster("host");
      const member = await fixture.registerMember(east);
      const first = await fixture.startAgent(member);
      const second = await fixture.startAgent(member);
      await waitFor(async () => (await fixture.hub.agents(member)) === 2, {
        description: "both agents to connect",
      });
      const get = async () => {
        const response = await fetch(
          `${fixture.hub.url}/clusters/${member}/api/v1/namespaces/default`,
          {
            headers: { Authorization: `Bearer ${host.adminToken}` },
            client: Deno.createHttpClient({ caCerts: [fixture.hub.caPem] }),
          },
        );
        await response.body?.cancel();
        return response.status;
      };
      for (let i = 0; i < 10; i++) assertEquals(await get(), 200);
      // Several requests on one keep-alive connection (kubectl's habit) are all answered.
      const keepAlive = Deno.createHttpClient({ caCerts: [fixture.hub.caPem], http2: false });
      for (let i = 0; i < 5; i++) {
        const response = await fetch(
          `${fixture.hub.url}/clusters/${member}/api/v1/namespaces/default`,
          {
            headers: { Authorization: `Bearer ${host.adminToken}` },
            client: keepAlive,
            signal: AbortSignal.timeout(10_000),
          },
        );
        await response.body?.cancel();
        assertEquals(response.status, 200);
      }
      keepAlive.close();
      // Each agent's own log shows it served some of them (its lines may trail the answers).
      await waitFor(async () => (await first.requests()) > 0 && (await second.requests()) > 0, {
        description: "both agents to carry requests",
      });

      // One agent goes away: every following request still succeeds.
      await first.stop();
      await waitFor(async () => (await fixture.hub.agents(member)) === 1, {
        description: "the hub to notice",
      });
      for (let i = 0; i < 10; i++) assertEquals(await get(), 200);

      // The hub restarts: the remaining agent reconnects on its own.
      await fixture.restartHub();
      await waitFor(
        async () => (await second.connections()) === 2 && (await fixture.hub.agents(member)) === 1,
        {
          timeoutMs: 60_000,
          description: "the agent to reconnect to the new hub",
        },
      );
      assertEquals(await get(), 200);
    }),
);

e2eTest(
  "a watch through the tunnel delivers events promptly while another stream is stalled",
  (env) =>
    withHubFixture(env, async (fixture) => {
      const east = env.cluster("east");
      const host = env.cluster("host");
      const member = await fixture.registerMember(east);
      await fixture.connectAgent(member);
      const ns = uniqueName("stall");
      await kubectlOk(east, ["create", "namespace", ns]);
      // Enough data that an unread answer fills its stream's window (256 KiB) and stops there.
      const items = Array.from({ length: 80 }, (_, i) => ({
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: `big-${i}`, namespace: ns },
        data: { blob: "x".repeat(8 * 1024) },
      }));
      await kubectlOk(east, ["apply", "-f", "-"], {
        stdin: JSON.stringify({ apiVersion: "v1", kind: "List", items }),
      });
      const client = Deno.createHttpClient({ caCerts: [fixture.hub.caPem] });
      const headers = { Authorization: `Bearer ${host.adminToken}` };
      const base = `${fixture.hub.url}/clusters/${member}/api/v1/namespaces/${ns}/configmaps`;
      const stalled = await fetch(base, { headers, client });
      assertEquals(stalled.status, 200); // its body is left unread
      const controller = new AbortController();
      const watch = await fetch(`${base}?watch=1&fieldSelector=metadata.name%3Dfresh`, {
        headers,
        client,
        signal: controller.signal,
      });
      const reader = watch.body!.pipeThrough(new TextDecoderStream()).getReader();
      const started = Date.now();
      await kubectlOk(east, ["create", "configmap", "fresh", "-n", ns]);
      let text = "";
      while (!text.includes('"ADDED"')) text += (await reader.read()).value ?? "";
      assert(Date.now() - started < 5_000, "the event arrived promptly");
      controller.abort();
      await reader.cancel().catch(() => {});
      await stalled.body?.cancel();
      client.close();
    }),
);

e2eTest(
  "a WebSocket upgrade (exec, v5.channel.k8s.io) crosses the tunnel to a real pod on the member",
  (env) =>
    withHubFixture(env, async (fixture) => {
      const host = env.cluster("host");
      const west = env.cluster("west");
      const member = await fixture.registerMember(west);
      await fixture.connectAgent(member);
      const ns = uniqueName("exec");
      await kubectlOk(west, ["create", "namespace", ns]);
      await apply(
        west,
        oneShotPod(ns, "echo", [{
          name: "main",
          image: env.images!.deno.ref,
          args: ["eval", "setInterval(() => {}, 1 << 30)"],
        }]),
      );
      await waitForPhase(west, ns, "echo", "Running");
      // stdin crosses hub, tunnel and agent to the kubelet and comes back; v5's CLOSE of stdin
      // (a v5-only signal) reaches the command, which then ends with Success.
      const exec = await execEcho(
        `${fixture.hub.url}/clusters/${member}/api/v1/namespaces/${ns}/pods/echo/exec?` +
          `${ECHO_STDIN}&stdin=true&stdout=true`,
        {
          token: host.adminToken,
          caPem: fixture.hub.caPem,
          protocol: "v5.channel.k8s.io",
          text: "through the tunnel",
          closeStdin: true,
        },
      );
      assertEquals(
        [exec.protocol, exec.received, exec.status],
        ["v5.channel.k8s.io", "through the tunnel", "Success"],
      );
    }),
  { nodes: true },
);
