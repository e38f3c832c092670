/**
 * GitOps install on a real node: a join token from the host, the member side applied to east
 * with `kubectl apply` alone (no host credential there), agent pods that register through the
 * hub pods, requests through the hub; a reused join token named in the agent's log; and the
 * agents' token rotation under load without a failed request.
 */
import { assert, assertEquals, assertStringIncludes } from "../_utils/assert.ts";
import { e2eTest, kubectlOk, uniqueName } from "../_utils/e2e.ts";
import { runMca } from "../_utils/mca_process.ts";
import { podLogs } from "../_utils/pods.ts";
import { tempDir } from "../_utils/temp_dir.ts";
import { installMcaChart } from "../_utils/mca_chart.ts";
import { askToJoin, createJoinToken, reachAsHostAdmin, startLoad } from "../_utils/join_tokens.ts";
import { parseAllDocuments } from "yaml";
import { waitFor } from "../../src/common/mod.ts";
import { agentTokenSecretName, readAgentTokenHashes } from "../../src/members/mod.ts";
import { MCA_NAMESPACE, type TestCluster } from "../../src/testenv/mod.ts";

e2eTest(
  "kubectl apply alone installs a member from a join token; agent pods rotate their token under load without a failed request",
  async (env) => {
    const host = env.cluster("host");
    const east = env.cluster("east");
    const { hubUrl, hubCaPem } = await installMcaChart(env);
    // A short overlap, so that the rotation's end is seen in the test.
    await kubectlOk(host, [
      "patch",
      "deployment",
      "mca-hub",
      "-n",
      MCA_NAMESPACE,
      "--type=json",
      '-p=[{"op":"add","path":"/spec/template/spec/containers/0/args/-","value":"--agent-token-overlap=20s"}]',
    ]);
    await kubectlOk(host, [
      "rollout",
      "status",
      "deployment/mca-hub",
      "-n",
      MCA_NAMESPACE,
      "--timeout=3m",
    ]);
    await using dir = await tempDir("mca-join-pods-");
    const hubCaFile = await dir.write("hub-ca.crt", hubCaPem);
    const cluster = uniqueName("gitops");
    const { token } = await createJoinToken([
      `--cluster=${cluster}`,
      `--hub=${hubUrl}`,
      `--kubeconfig=${host.kubeconfigPath}`,
    ]);
    const manifests = (namespace: string, replicas: number) =>
      runMca([
        "agent",
        "manifest",
        `--hub=${hubUrl}`,
        `--cluster=${cluster}`,
        `--hub-ca-file=${hubCaFile}`,
        `--agent-namespace=${namespace}`,
        `--image=${env.images!.mca.ref}`,
        `--replicas=${replicas}`,
        `--join-token=${token}`,
        "--token-rotation-interval=40s",
      ]);
    const namespace = uniqueName("mca-agent");
    const printed = await manifests(namespace, 2);
    assertEquals(printed.code, 0, printed.stderr);
    assert(!printed.stdout.includes(host.adminToken), "no host credential in the manifests");
    // kubectl apply with east's credentials only.
    await kubectlOk(east, ["apply", "-f", "-"], { stdin: printed.stdout });
    await waitConnected({ host, east }, { cluster, namespace });

    const hostHashes = async () =>
      readAgentTokenHashes(
        JSON.parse(
          await kubectlOk(host, [
            "get",
            "secret",
            agentTokenSecretName(cluster),
            "-n",
            MCA_NAMESPACE,
            "-o",
            "json",
          ]),
        ).data,
      )!;
    const firstHash = (await hostHashes()).current;

    // Requests through the hub from here on, through the rotation.
    const path = "/api/v1/namespaces/default/configmaps?limit=1";
    await reachAsHostAdmin(host, { url: hubUrl, caPem: hubCaPem }, { cluster, path });
    const load = startLoad(
      { url: hubUrl, caPem: hubCaPem, bearer: host.adminToken },
      { cluster, path },
    );
    try {
      // The same join token again, as a second install would use it: the hub refuses it and
      // the agent says why in its log (it keeps retrying with backoff).
      const reused = await askToJoin({ url: hubUrl, caPem: hubCaPem }, { token, cluster });
      assertEquals(reused.code, 401);
      assertStringIncludes(reused.message, "The join token was already used");
      // Without the cluster-scoped RBAC: its fixed names would rebind the first agents'.
      const second = uniqueName("mca-agent");
      const namespaced = parseAllDocuments((await manifests(second, 1)).stdout)
        .map((document) => document.toJSON() as { kind: string })
        .filter((object) => !object.kind.startsWith("Cluster"));
      await kubectlOk(east, ["apply", "-f", "-"], {
        stdin: JSON.stringify({ apiVersion: "v1", kind: "List", items: namespaced }),
      });
      const log = await waitFor(async () => {
        const pods = JSON.parse(
          await kubectlOk(east, ["get", "pods", "-n", second, "-o", "json"]),
        ) as { items: Array<{ metadata: { name: string }; status: { phase: string } }> };
        const pod = pods.items.find((p) => p.status.phase === "Running");
        if (!pod) return undefined;
        const text = await podLogs(east, second, pod.metadata.name, "agent").catch(() => "");
        return text.includes("The join token was already used") && text;
      }, { timeoutMs: 120_000, intervalMs: 2_000, description: "the refused agent's log line" });
      assertStringIncludes(log, "the hub refused the join token");

      await waitFor(async () => {
        const hashes = await hostHashes();
        return hashes.current !== firstHash && hashes.previous?.hash === firstHash;
      }, {
        timeoutMs: 120_000,
        intervalMs: 1_000,
        description: "the agents to rotate their token",
      });
      await waitFor(async () => (await hostHashes()).previous === undefined, {
        timeoutMs: 60_000,
        intervalMs: 1_000,
        description: "the previous token to be dropped",
      });
      await waitConnected({ host, east }, { cluster, namespace });
    } finally {
      const { requests, failures } = await load.stop();
      console.log(`rotation under load (pods): ${requests} requests, ${failures.length} failed`);
      for (const failure of failures.slice(0, 5)) console.log(failure);
      assert(requests > 50, `the load ran (${requests} requests)`);
      assertEquals(failures, [], "no request failed during the rotation");
    }
  },
  { nodes: true },
);

/**
 * Waits until the hub reports the cluster connected and every agent pod is ready (an agent is
 * ready only while connected to the hub).
 */
async function waitConnected(
  { host, east }: { host: TestCluster; east: TestCluster },
  { cluster, namespace }: { cluster: string; namespace: string },
): Promise<void> {
  await waitFor(async () => {
    const result = await kubectlOk(host, ["get", "clusters.mca.k8s.io", cluster, "-o", "json"])
      .catch(() => "{}");
    const status = (JSON.parse(result) as {
      status?: { conditions?: Array<{ type: string; status: string }> };
    }).status;
    return status?.conditions?.some((c) => c.type === "Connected" && c.status === "True");
  }, { timeoutMs: 180_000, intervalMs: 2_000, description: `cluster "${cluster}" connected` });
  await kubectlOk(east, [
    "wait",
    "--for=condition=Available",
    "deployment/mca-agent",
    "-n",
    namespace,
    "--timeout=3m",
  ]);
}
