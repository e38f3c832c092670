/** `mca agent install`: registration on the host, the agent's objects on the member, idempotence. */
import { assert, assertEquals, assertStringIncludes } from "../_utils/assert.ts";
import { e2eTest, kubectl, kubectlOk, uniqueName } from "../_utils/e2e.ts";
import { tempDir } from "../_utils/temp_dir.ts";
import { renderKubeconfig } from "../../src/kube/mod.ts";
import { agentTokenSecretName, hashToken } from "../../src/members/mod.ts";
import { startHubFixture } from "../_utils/hub_fixture.ts";
import { startMca } from "../_utils/mca_process.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

async function mca(args: string[]) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", MAIN, ...args],
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

e2eTest(
  "mca agent install registers the member, applies the agent, is idempotent, and waits for Connected",
  async (env) => {
    const host = env.cluster("host");
    const west = env.cluster("west");
    await using dir = await tempDir();
    const fixture = await startHubFixture(env, dir.path);
    const hub = fixture.hub;
    const hubNamespace = fixture.namespace;
    const agentNamespace = uniqueName("mca-agent");
    const member = uniqueName("west");
    try {
      const install = (extra: string[] = []) =>
        mca([
          "agent",
          "install",
          `--hub=${hub.url}`,
          `--cluster=${member}`,
          `--kubeconfig=${host.kubeconfigPath}`,
          `--member-kubeconfig=${west.kubeconfigPath}`,
          `--hub-namespace=${hubNamespace}`,
          `--agent-namespace=${agentNamespace}`,
          ...extra,
        ]);
      // Without the hub's CA Secret nothing is registered; --hub-ca-secret names another one.
      const noCa = await install(["--wait=0", "--hub-ca-secret=no-such-secret"]);
      assertEquals(noCa.code, 1, noCa.stderr);
      assertStringIncludes(noCa.stderr, `The hub's CA Secret "no-such-secret"`);
      assertEquals(
        (await kubectl(host, ["get", "clusters.mca.k8s.io", member])).code,
        1,
        "no Cluster object after a failed install",
      );
      const caCopy = JSON.parse(
        await kubectlOk(host, ["get", "secret", "mca-hub-ca", "-n", hubNamespace, "-o", "json"]),
      );
      await kubectlOk(host, ["apply", "-f", "-"], {
        stdin: JSON.stringify({
          apiVersion: "v1",
          kind: "Secret",
          metadata: { name: "hub-ca-copy", namespace: hubNamespace },
          data: { "ca.crt": caCopy.data["ca.crt"] },
        }),
      });
      const first = await install(["--wait=0", "--hub-ca-secret=hub-ca-copy"]);
      assertEquals(first.code, 0, first.stderr);
      assertStringIncludes(first.stderr, `Registering cluster "${member}" on the host`);
      assertStringIncludes(first.stderr, "token created");
      for (const kind of ["serviceaccount", "secret", "deployment"]) {
        await kubectlOk(west, ["get", kind, "mca-agent", "-n", agentNamespace]);
      }
      await kubectlOk(west, ["get", "clusterrole", "mca-agent-impersonator"]);
      const memberSecret = JSON.parse(
        await kubectlOk(west, ["get", "secret", "mca-agent", "-n", agentNamespace, "-o", "json"]),
      );
      const token = atob(memberSecret.data.token);
      const hostSecret = JSON.parse(
        await kubectlOk(host, [
          "get",
          "secret",
          agentTokenSecretName(member),
          "-n",
          hubNamespace,
          "-o",
          "json",
        ]),
      );
      assertEquals(atob(hostSecret.data["token-sha256"]), await hashToken(token));
      assert(!JSON.stringify(hostSecret).includes(token), "the host keeps only the hash");

      // Again: nothing changes.
      const second = await install(["--wait=0"]);
      assertEquals(second.code, 0, second.stderr);
      assertStringIncludes(second.stderr, "token unchanged");
      const after = JSON.parse(
        await kubectlOk(west, ["get", "secret", "mca-agent", "-n", agentNamespace, "-o", "json"]),
      );
      assertEquals(after.metadata.resourceVersion, memberSecret.metadata.resourceVersion);

      // No kubelet runs the Deployment here: run the agent as it would, from what install put in the member.
      const agentToken =
        (await kubectlOk(west, ["create", "token", "mca-agent", "-n", agentNamespace])).trim();
      const memberKubeconfig = await dir.write(
        "member",
        renderKubeconfig([{
          name: "m",
          server: west.url,
          caPem: west.caPem,
          user: { token: agentToken },
        }]),
      );
      const hubCaFile = await dir.write("hub-ca.crt", atob(memberSecret.data["hub-ca.crt"]));
      const tokenFile = await dir.write("token", token);
      const agent = await startMca([
        "agent",
        `--hub=${hub.url}`,
        `--cluster=${member}`,
        `--token-file=${tokenFile}`,
        `--hub-ca-file=${hubCaFile}`,
        `--hub-ca-pin=${atob(memberSecret.data["hub-ca-pin"])}`,
        `--member-kubeconfig=${memberKubeconfig}`,
        "--health-listen=",
        "--log-format=text",
      ], { dir: dir.path, name: "agent" });
      try {
        const third = await install(["--wait=30s"]);
        assertEquals(third.code, 0, third.stderr);
        assertStringIncludes(third.stderr, `Cluster "${member}" is connected`);
        // The agent's ServiceAccount may impersonate, and nothing else.
        const canList = await kubectl(west, [
          "auth",
          "can-i",
          "list",
          "pods",
          `--as=system:serviceaccount:${agentNamespace}:mca-agent`,
        ]);
        assertEquals(canList.stdout.trim(), "no");

        // The Kopilot-style opt-in: the Cluster says so, and the agent gets the chosen role;
        // installing again without it takes both back.
        const role = uniqueName("pod-reader");
        await kubectlOk(west, ["create", "clusterrole", role, "--verb=list", "--resource=pods"]);
        const agentCan = async () =>
          (await kubectl(west, [
            "auth",
            "can-i",
            "list",
            "pods",
            `--as=system:serviceaccount:${agentNamespace}:mca-agent`,
          ])).stdout.trim();
        const identity = async () =>
          (await kubectlOk(host, [
            "get",
            "clusters.mca.k8s.io",
            member,
            "-o",
            "jsonpath={.spec.identity}",
          ])).trim();
        const optIn = await install(["--wait=0", `--act-as-agent=${role}`]);
        assertEquals(optIn.code, 0, optIn.stderr);
        assertEquals(await identity(), "AgentServiceAccount");
        assertEquals(await agentCan(), "yes");
        const optOut = await install(["--wait=0"]);
        assertEquals(optOut.code, 0, optOut.stderr);
        assertStringIncludes(optOut.stderr, "Removed ClusterRoleBinding mca-agent-acts-as-itself");
        assertEquals(await identity(), "Impersonate");
        assertEquals(await agentCan(), "no");
      } finally {
        await agent.stop();
      }

      const printed = await mca([
        "agent",
        "manifest",
        `--hub=${hub.url}`,
        `--cluster=${member}`,
        `--hub-ca-file=${hubCaFile}`,
      ]);
      assertEquals(printed.code, 0, printed.stderr);
      assertStringIncludes(printed.stdout, "kind: Deployment");
      assertStringIncludes(printed.stdout, "token: <set by mca agent install>");
      assert(!printed.stdout.includes(token));
    } finally {
      await fixture.stop();
    }
  },
);
