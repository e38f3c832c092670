/** The hub and an agent against real API servers: member access as the caller, host RBAC, agent tokens. */
import { assert, assertEquals, assertStringIncludes } from "../_utils/assert.ts";
import { e2eTest, kubectl, kubectlOk, uniqueName } from "../_utils/e2e.ts";
import { tempDir } from "../_utils/temp_dir.ts";
import { startSidecarProxy } from "../_utils/sidecar_proxy.ts";
import { renderKubeconfig } from "../../src/kube/mod.ts";
import { waitFor } from "../../src/common/mod.ts";
import { agentTokenSecretName, newAgentToken } from "../../src/members/mod.ts";
import { allowClusterProxy, type FixtureAgent, startHubFixture } from "../_utils/hub_fixture.ts";
import { type HubProcess, metricValue } from "../_utils/hub_process.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

e2eTest(
  "kubectl reaches a member through the hub as itself; host RBAC gates it; agent tokens are enforced",
  async (env) => {
    const host = env.cluster("host");
    const east = env.cluster("east");
    await using dir = await tempDir();
    // Host: the Cluster registry and a registered agent token (stored only as a hash); member:
    // an agent ServiceAccount that may only impersonate. Hub and agent run as `mca` processes.
    const fixture = await startHubFixture(env, dir.path);
    const hub = fixture.hub;
    const member = await fixture.registerMember(east);
    const hubCaFile = fixture.hubCaFile;
    try {
      const agent = await fixture.startAgent(member, { healthListen: true });
      await waitFor(
        async () => (await agent.connections()) === 1 && (await hub.agents(member)) === 1,
        { description: "the agent to connect" },
      );
      await waitFor(async () => {
        const cluster = await host.client.get<
          {
            status?: {
              connectedAgents?: number;
              memberVersion?: string;
              conditions?: { type: string; status: string }[];
            };
          }
        >(
          `/apis/mca.k8s.io/v1alpha1/clusters/${member}`,
        );
        return cluster.status?.connectedAgents === 1 &&
          cluster.status.memberVersion === "v1.34.10" &&
          cluster.status.conditions?.some((c) => c.type === "Connected" && c.status === "True");
      }, { description: "the Cluster status to show the agent" });

      // Users on the host: alice may reach the member, bob may not.
      const users = uniqueName("users");
      await kubectlOk(host, ["create", "namespace", users]);
      for (const name of ["alice", "bob"]) {
        await kubectlOk(host, ["create", "serviceaccount", name, "-n", users]);
      }
      await allowClusterProxy(host, member, { namespace: users, name: "alice" }, [
        "get",
        "list",
        "watch",
        "create",
        "update",
        "patch",
        "delete",
      ]);
      // On the member, the impersonated alice may only read ConfigMaps in "shop".
      await kubectlOk(east, ["create", "namespace", "shop"]).catch(() => "");
      await kubectlOk(east, ["create", "configmap", uniqueName("seen"), "-n", "shop"]);
      await kubectlOk(east, [
        "create",
        "role",
        `${users}-reader`,
        "-n",
        "shop",
        "--verb=get,list",
        "--resource=configmaps",
      ]);
      await kubectlOk(east, [
        "create",
        "rolebinding",
        `${users}-alice`,
        "-n",
        "shop",
        `--role=${users}-reader`,
        `--user=mca:host:system:serviceaccount:${users}:alice`,
      ]);

      // Each user's kubeconfig for the member comes from `mca kubeconfig`, from their host token.
      const kubeconfigFor = async (user: string) => {
        const token = (await kubectlOk(host, ["create", "token", user, "-n", users])).trim();
        const hostConfig = await dir.write(
          `${user}-host.kubeconfig`,
          renderKubeconfig([{
            name: "host",
            server: host.url,
            caPem: host.caPem,
            user: { token },
          }]),
        );
        const output = `${dir.path}/${user}.kubeconfig`;
        const result = await new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "-A",
            "--quiet",
            MAIN,
            "kubeconfig",
            `--hub=${hub.url}`,
            `--hub-ca-file=${hubCaFile}`,
            `--kubeconfig=${hostConfig}`,
            `--clusters=${member}`,
            `--output=${output}`,
          ],
          stdout: "piped",
          stderr: "piped",
        }).output();
        assertEquals(result.code, 0, new TextDecoder().decode(result.stderr));
        return output;
      };
      const alice = await kubeconfigFor("alice");
      const bob = await kubeconfigFor("bob");
      const list = await kubectl(alice, ["get", "configmaps", "-n", "shop", "-o", "name"]);
      assertEquals(list.code, 0, list.stderr);
      assertStringIncludes(list.stdout, "configmap/seen-");
      const create = await kubectl(alice, ["create", "configmap", "not-allowed", "-n", "shop"]);
      assertEquals(create.code, 1);
      assertStringIncludes(
        create.stderr,
        `User "mca:host:system:serviceaccount:${users}:alice" cannot create resource "configmaps"`,
      );
      const denied = await kubectl(bob, ["get", "configmaps", "-n", "shop"]);
      assertEquals(denied.code, 1);
      assertStringIncludes(denied.stderr, `cannot get clusters/proxy "${member}"`);
      await assertScrapedMetrics(agent, hub, member);

      // A sidecar routes to the member through the hub, with the pod's own token (flow 2).
      const sidecarDir = `${dir.path}/sidecar`;
      await Deno.mkdir(sidecarDir);
      const proxy = await startSidecarProxy(
        env,
        sidecarDir,
        `
clusters:
  far: {via: hub, hub: "${hub.url}", cluster: ${member}, caFile: ${hubCaFile}}
routes:
- name: shop-is-far
  match: {namespaces: [shop]}
  cluster: far
`,
      );
      try {
        await kubectlOk(east, [
          "create",
          "rolebinding",
          `${proxy.namespace}-app`,
          "-n",
          "shop",
          `--role=${users}-reader`,
          `--user=mca:host:system:serviceaccount:${proxy.namespace}:app`,
        ]);
        const viaHub = await kubectl(proxy.kubeconfigPath, [
          "get",
          "configmaps",
          "-n",
          "shop",
          "-o",
          "name",
        ]);
        assertEquals(viaHub.code, 0, viaHub.stderr);
        assertStringIncludes(viaHub.stdout, "configmap/seen-");
      } finally {
        await proxy.stop();
      }

      // Kopilot's model only as an explicit opt-in on the Cluster: requests then run as the
      // agent's ServiceAccount (here impersonation-only, so the member refuses the read).
      const whoami = async () =>
        (await kubectlOk(alice, ["auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"]))
          .trim();
      assertEquals(await whoami(), `mca:host:system:serviceaccount:${users}:alice`);
      const setIdentity = (identity: string) =>
        kubectlOk(host, [
          "patch",
          "clusters.mca.k8s.io",
          member,
          "--type=merge",
          `--patch={"spec":{"identity":"${identity}"}}`,
        ]);
      await setIdentity("AgentServiceAccount");
      await waitFor(async () => (await whoami()).endsWith(":mca-agent"), {
        description: "requests to run as the agent",
      });
      const asAgent = await kubectl(alice, ["get", "configmaps", "-n", "shop"]);
      assertEquals(asAgent.code, 1);
      assertStringIncludes(asAgent.stderr, ':mca-agent" cannot list resource "configmaps"');
      await setIdentity("Impersonate");
      await waitFor(
        async () => (await whoami()) === `mca:host:system:serviceaccount:${users}:alice`,
        {
          description: "requests to run as their caller again",
        },
      );

      // A wrong token is refused.
      const wrongTokenFile = await dir.write("wrong-token", newAgentToken());
      const impostor = await fixture.startAgent(member, { tokenFile: wrongTokenFile });
      const refused = await fetch(`${hub.url}/connect`, {
        headers: {
          Authorization: "Bearer wrong",
          "x-mca-cluster": member,
          Upgrade: "websocket",
          Connection: "Upgrade",
        },
        client: Deno.createHttpClient({ caCerts: [hub.caPem] }),
      }).catch(() => undefined);
      await refused?.body?.cancel();
      await waitFor(
        async () =>
          (await impostor.process.tail(100)).includes("the hub refused the connection: HTTP 401"),
        { description: "the hub to refuse the impostor" },
      );
      assertEquals(await impostor.connections(), 0);
      assertEquals(await hub.agents(member), 1);
      await impostor.stop();

      // Deleting the registered token closes the live session; requests then fail fast.
      await host.client.delete(
        `/api/v1/namespaces/${fixture.namespace}/secrets/${agentTokenSecretName(member)}`,
      );
      await waitFor(async () => (await hub.agents(member)) === 0, {
        description: "the session to close",
      });
      const started = Date.now();
      const unavailable = await kubectl(alice, ["get", "configmaps", "-n", "shop"]);
      assertEquals(unavailable.code, 1);
      assertStringIncludes(unavailable.stderr, "has no connected agent");
      assert(Date.now() - started < 5_000);
    } finally {
      await fixture.stop();
    }
  },
);

/**
 * Both ends' `/metrics` after alice's list (200) and bob's refusal (403): the agent's session is
 * up and it timed the member's answers; the hub timed both by cluster and code; both run the
 * same build and report their process.
 */
async function assertScrapedMetrics(
  agent: FixtureAgent,
  hub: HubProcess,
  member: string,
): Promise<void> {
  const agentText = await agent.metrics();
  assertEquals(metricValue(agentText, "mca_agent_session_up", {}), 1);
  assert(
    metricValue(agentText, "mca_agent_request_duration_seconds_count", { code: "200" }) >= 1,
    agentText,
  );
  assert(metricValue(agentText, "mca_agent_bytes_total", { direction: "sent" }) > 0, agentText);
  const hubText = await hub.metrics();
  for (const code of ["200", "403"]) {
    assert(
      metricValue(hubText, "mca_hub_request_duration_seconds_count", { cluster: member, code }) >=
        1,
      hubText,
    );
  }
  for (const text of [agentText, hubText]) {
    assert(/^mca_build_info\{version="[^"]+",deno="[^"]+",arch="[^"]+"\} 1$/m.test(text), text);
    assert(metricValue(text, "process_resident_memory_bytes", {}) > 0, text);
    assert(metricValue(text, "process_open_fds", {}) > 0, text);
  }
}
