/** Two hub replicas: a request reaches a member whose agent is connected only to the other one. */
import { assertEquals, assertStringIncludes } from "../_utils/assert.ts";
import { e2eTest, kubectlOk, uniqueName } from "../_utils/e2e.ts";
import { startHubFixture } from "../_utils/hub_fixture.ts";
import { tempDir } from "../_utils/temp_dir.ts";
import { FORWARDED_IDENTITY_HEADER, resolveHubOptions, runHub } from "../../src/hub/mod.ts";
import { silentLogger } from "../../src/log/mod.ts";
import { freePort, waitFor } from "../../src/testenv/mod.ts";

e2eTest(
  "a hub replica forwards, in one hop over mutual TLS, to the replica that holds the agent",
  async (env) => {
    const host = env.cluster("host");
    await using dir = await tempDir();
    // Replica A is the fixture's hub; B is a second process-like hub in the same namespace.
    const fixture = await startHubFixture(env, dir.path);
    const namespace = fixture.hubOptions.namespace;
    await fixture.hub.stop();
    const portA = fixture.hub.port;
    const portB = freePort();
    const replica = (id: string, port: number, peerPort = freePort()) =>
      runHub(
        resolveHubOptions({
          namespace,
          listen: `127.0.0.1:${port}`,
          dnsNames: "localhost",
          ipAddresses: "127.0.0.1",
          kubeconfig: host.kubeconfigPath,
          replicaId: id,
          // Replicas reach each other on their own listener (mutual TLS).
          peerListen: `127.0.0.1:${peerPort}`,
          peerUrl: `https://127.0.0.1:${peerPort}`,
        }),
        { logger: silentLogger },
      );
    const hubA = await replica("a", portA);
    const hubB = await replica("b", portB);
    try {
      const member = await fixture.registerMember(env.cluster("east"));
      await fixture.startAgent(member); // dials port A only
      await waitFor(() => hubA.sessions.agents(member).length === 1, {
        description: "the agent on replica A",
      });
      assertEquals(hubB.sessions.agents(member).length, 0);
      const client = Deno.createHttpClient({ caCerts: [hubB.caPem] });
      const viaB = (headers: Record<string, string>) =>
        fetch(`https://127.0.0.1:${portB}/clusters/${member}/api/v1/namespaces/default`, {
          headers,
          client,
        });
      const forwarded = await waitFor(async () => {
        const response = await viaB({ Authorization: `Bearer ${host.adminToken}` });
        const text = await response.text();
        return response.status === 200 ? text : undefined;
      }, { description: "replica B to find replica A's Lease and forward" });
      assertEquals(JSON.parse(forwarded).metadata.name, "default");

      // Identity is still checked where the request enters: no RBAC on the host, no entry.
      const ns = uniqueName("users");
      await kubectlOk(host, ["create", "namespace", ns]);
      await kubectlOk(host, ["create", "serviceaccount", "nobody", "-n", ns]);
      const token = (await kubectlOk(host, ["create", "token", "nobody", "-n", ns])).trim();
      const denied = await viaB({ Authorization: `Bearer ${token}` });
      assertEquals(denied.status, 403);
      await denied.body?.cancel();

      // A forged forwarded identity without a replica's client certificate is refused.
      const forged = await fetch(
        `https://127.0.0.1:${portA}/clusters/${member}/api/v1/namespaces/default`,
        {
          headers: {
            [FORWARDED_IDENTITY_HEADER]: JSON.stringify({
              username: "mca-admin",
              groups: ["system:masters"],
            }),
          },
          client,
        },
      );
      assertEquals(forged.status, 401);
      assertStringIncludes(await forged.text(), "accepted only from hub replicas");
      client.close();
    } finally {
      await hubB.stop();
      await hubA.stop();
      await fixture.stop().catch(() => {});
    }
  },
);
