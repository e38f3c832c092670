/** The hub and an agent against real API servers: member access as the caller, host RBAC, agent tokens. */
import { assert, assertEquals, assertStringIncludes } from "../_utils/assert.ts";
import { e2eTest, kubectl, kubectlOk, uniqueName } from "../_utils/e2e.ts";
import { tempDir } from "../_utils/temp_dir.ts";
import { startSidecarProxy } from "../_utils/sidecar_proxy.ts";
import { renderKubeconfig } from "../../src/kube/mod.ts";
import { computeCaPin } from "../../src/pki/mod.ts";
import { waitFor } from "../../src/testenv/mod.ts";
import {
  AGENT_TOKEN_LABEL,
  agentTokenSecretName,
  hashToken,
  newAgentToken,
  resolveHubOptions,
  runHub,
  TOKEN_HASH_KEY,
} from "../../src/hub/mod.ts";
import { resolveAgentOptions, runAgent } from "../../src/agent/mod.ts";
import { silentLogger } from "../../src/log/mod.ts";

const CRD = new URL("../../deploy/crds/clusters.mca.k8s.io.yaml", import.meta.url).pathname;
const MAIN = new URL("../../main.ts", import.meta.url).pathname;

e2eTest(
  "kubectl reaches a member through the hub as itself; host RBAC gates it; agent tokens are enforced",
  async (env) => {
    const host = env.cluster("host");
    const east = env.cluster("east");
    await using dir = await tempDir();
    const hubNamespace = uniqueName("mca-hub");
    const member = uniqueName("member");

    // Host: the Cluster registry and a registered agent token (stored only as a hash).
    await kubectlOk(host, ["apply", "-f", CRD]);
    await kubectlOk(host, [
      "wait",
      "--for=condition=Established",
      "crd/clusters.mca.k8s.io",
      "--timeout=30s",
    ]);
    await kubectlOk(host, ["create", "namespace", hubNamespace]);
    await waitFor(async () =>
      (await kubectl(host, ["apply", "-f", "-"], {
        stdin: JSON.stringify({
          apiVersion: "mca.k8s.io/v1alpha1",
          kind: "Cluster",
          metadata: { name: member },
        }),
      })).code === 0, { description: "the Cluster kind to be served" });
    const agentToken = newAgentToken();
    await host.client.create(`/api/v1/namespaces/${hubNamespace}/secrets`, {
      metadata: { name: agentTokenSecretName(member), labels: { [AGENT_TOKEN_LABEL]: "true" } },
      data: { [TOKEN_HASH_KEY]: btoa(await hashToken(agentToken)) },
    });

    // Member: the agent's ServiceAccount may only impersonate.
    const agentNs = uniqueName("mca-agent");
    await kubectlOk(east, ["create", "namespace", agentNs]);
    await kubectlOk(east, ["create", "serviceaccount", "mca-agent", "-n", agentNs]);
    await kubectlOk(east, ["apply", "-f", "-"], {
      stdin: JSON.stringify({
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRole",
        metadata: { name: `${agentNs}-impersonate` },
        rules: [
          {
            apiGroups: [""],
            resources: ["users", "groups", "serviceaccounts"],
            verbs: ["impersonate"],
          },
          // RBAC's "userextras/*" does not match extras with a "/" in their key (credential-id): "*" does.
          { apiGroups: ["authentication.k8s.io"], resources: ["*"], verbs: ["impersonate"] },
        ],
      }),
    });
    await kubectlOk(east, [
      "create",
      "clusterrolebinding",
      `${agentNs}-impersonate`,
      `--clusterrole=${agentNs}-impersonate`,
      `--serviceaccount=${agentNs}:mca-agent`,
    ]);
    const agentMemberToken =
      (await kubectlOk(east, ["create", "token", "mca-agent", "-n", agentNs, "--duration=1h"]))
        .trim();
    const memberKubeconfig = await dir.write(
      "member.kubeconfig",
      renderKubeconfig([{
        name: "member",
        server: east.url,
        caPem: east.caPem,
        user: { token: agentMemberToken },
      }]),
    );

    const hub = await runHub(
      resolveHubOptions({
        namespace: hubNamespace,
        listen: "127.0.0.1:0",
        dnsNames: "localhost",
        ipAddresses: "127.0.0.1",
        kubeconfig: host.kubeconfigPath,
      }),
      { logger: silentLogger },
    );
    const hubCaFile = await dir.write("hub-ca.crt", hub.caPem);
    const tokenFile = await dir.write("agent-token", agentToken);
    const pin = await computeCaPin(hub.caPem);
    const agentOptions = (token: string) =>
      resolveAgentOptions({
        hub: hub.url,
        cluster: member,
        tokenFile: token,
        hubCaFile,
        hubCaPin: pin,
        healthListen: "",
        memberKubeconfig,
      });
    const agent = await runAgent(agentOptions(tokenFile), { logger: silentLogger });
    try {
      await waitFor(() => agent.isConnected() && hub.sessions.agents(member).length === 1, {
        description: "the agent to connect",
      });
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
      await kubectlOk(host, [
        "create",
        "clusterrole",
        `${users}-proxy`,
        "--verb=get,list,watch,create,update,patch,delete",
        "--resource=clusters.mca.k8s.io/proxy",
        `--resource-name=${member}`,
      ]);
      await kubectlOk(host, [
        "create",
        "clusterrolebinding",
        `${users}-alice`,
        `--clusterrole=${users}-proxy`,
        `--serviceaccount=${users}:alice`,
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
        `--user=system:serviceaccount:${users}:alice`,
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
        `User "system:serviceaccount:${users}:alice" cannot create resource "configmaps"`,
      );
      const denied = await kubectl(bob, ["get", "configmaps", "-n", "shop"]);
      assertEquals(denied.code, 1);
      assertStringIncludes(denied.stderr, `cannot get clusters/proxy "${member}"`);

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
          `--user=system:serviceaccount:${proxy.namespace}:app`,
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

      // A wrong token is refused.
      const wrongTokenFile = await dir.write("wrong-token", newAgentToken());
      const impostor = await runAgent(agentOptions(wrongTokenFile), { logger: silentLogger });
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
      assert(!impostor.isConnected());
      assertEquals(hub.sessions.agents(member).length, 1);
      await impostor.stop(0);

      // Deleting the registered token closes the live session; requests then fail fast.
      await host.client.delete(
        `/api/v1/namespaces/${hubNamespace}/secrets/${agentTokenSecretName(member)}`,
      );
      await waitFor(() => hub.sessions.agents(member).length === 0, {
        description: "the session to close",
      });
      const started = Date.now();
      const unavailable = await kubectl(alice, ["get", "configmaps", "-n", "shop"]);
      assertEquals(unavailable.code, 1);
      assertStringIncludes(unavailable.stderr, "has no connected agent");
      assert(Date.now() - started < 5_000);
    } finally {
      await agent.stop(0);
      await hub.stop();
    }
  },
);
