/**
 * Join tokens and agent token rotation with real `mca` processes against the test clusters:
 * the member side as `mca agent manifest --join-token` prints it, agents that keep their
 * tokens in that Secret (with only the Secret rights the manifests give them), and requests
 * through the hub during a rotation. tests/charts/agent_join_pods_e2e_test.ts runs the same
 * with the agents in pods.
 */
import { assert, assertEquals, assertStringIncludes } from "../_utils/assert.ts";
import { e2eTest, kubectl, kubectlOk, uniqueName } from "../_utils/e2e.ts";
import { tempDir } from "../_utils/temp_dir.ts";
import { startHubFixture } from "../_utils/hub_fixture.ts";
import { runMca, startMca } from "../_utils/mca_process.ts";
import { askToJoin, createJoinToken, reachAsHostAdmin, startLoad } from "../_utils/join_tokens.ts";

const LOAD_PATH = "/api/v1/namespaces/default/configmaps?limit=1";
import { renderKubeconfig } from "../../src/kube/mod.ts";
import { waitFor } from "../../src/common/mod.ts";
import { computeCaPin } from "../../src/pki/mod.ts";
import {
  agentTokenSecretName,
  hashToken,
  joinTokenSecretName,
  newAgentToken,
  readAgentTokenHashes,
} from "../../src/members/mod.ts";

e2eTest(
  "a join token registers the member through the hub once; agents rotate their shared token under load without a failed request",
  async (env) => {
    const host = env.cluster("host");
    const west = env.cluster("west");
    await using dir = await tempDir();
    const fixture = await startHubFixture(env, dir.path, {
      hubArgs: ["--agent-token-overlap=8s"],
    });
    const hub = fixture.hub;
    const cluster = uniqueName("joined");
    const agentNamespace = uniqueName("mca-agent");
    const hostFlags = [
      `--kubeconfig=${host.kubeconfigPath}`,
      `--hub-namespace=${fixture.namespace}`,
    ];
    try {
      const { token, stdout } = await createJoinToken([
        `--cluster=${cluster}`,
        `--hub=${hub.url}`,
        ...hostFlags,
      ]);
      assertStringIncludes(stdout, `Hub CA pin: ${await computeCaPin(hub.caPem)}`);
      assertStringIncludes(stdout, `mca agent manifest --hub=${hub.url} --cluster=${cluster}`);
      const joinSecret = JSON.parse(
        await kubectlOk(host, [
          "get",
          "secret",
          joinTokenSecretName(token.split(".")[0]!),
          "-n",
          fixture.namespace,
          "-o",
          "json",
        ]),
      );
      assert(
        !JSON.stringify(joinSecret).includes(token.split(".")[1]!),
        "only the hash on the host",
      );

      // The member side: static manifests, applied with the member's credentials alone.
      const printed = await runMca([
        "agent",
        "manifest",
        `--hub=${hub.url}`,
        `--cluster=${cluster}`,
        `--hub-ca-file=${fixture.hubCaFile}`,
        `--agent-namespace=${agentNamespace}`,
        `--join-token=${token}`,
      ]);
      assertEquals(printed.code, 0, printed.stderr);
      await kubectlOk(west, ["apply", "-f", "-"], { stdin: printed.stdout });

      // No kubelet here: two agent processes run as the Deployment's pods would, with its
      // ServiceAccount (impersonation and get/patch of its own Secret, nothing else).
      const agentKubeconfig = await dir.write(
        "agent.kubeconfig",
        renderKubeconfig([{
          name: "member",
          server: west.url,
          caPem: west.caPem,
          user: {
            token: (await kubectlOk(west, [
              "create",
              "token",
              "mca-agent",
              "-n",
              agentNamespace,
              "--duration=1h",
            ])).trim(),
          },
        }]),
      );
      const agentArgs = [
        "agent",
        `--hub=${hub.url}`,
        `--cluster=${cluster}`,
        `--agent-secret=${agentNamespace}/mca-agent`,
        `--hub-ca-file=${fixture.hubCaFile}`,
        `--hub-ca-pin=${await computeCaPin(hub.caPem)}`,
        `--member-kubeconfig=${agentKubeconfig}`,
        "--token-rotation-interval=10s",
        "--health-listen=",
        "--log-format=text",
      ];
      const agents = [
        await startMca(agentArgs, { dir: dir.path, name: "agent-a" }),
        await startMca(agentArgs, { dir: dir.path, name: "agent-b" }),
      ];
      try {
        await waitFor(() => hub.agents(cluster).then((n) => n === 2), {
          timeoutMs: 60_000,
          description: "both agents to connect",
        });
        // The hub created the Cluster and stored only the agent token's hash; the agent
        // stored the token in its Secret.
        await kubectlOk(host, ["get", "clusters.mca.k8s.io", cluster]);
        const memberSecret = async () =>
          JSON.parse(
            await kubectlOk(west, [
              "get",
              "secret",
              "mca-agent",
              "-n",
              agentNamespace,
              "-o",
              "json",
            ]),
          ) as { data: Record<string, string> };
        const hostHashes = async () =>
          readAgentTokenHashes(
            JSON.parse(
              await kubectlOk(host, [
                "get",
                "secret",
                agentTokenSecretName(cluster),
                "-n",
                fixture.namespace,
                "-o",
                "json",
              ]),
            ).data,
          )!;
        const joined = atob((await memberSecret()).data.token!);
        assertEquals((await hostHashes()).current, await hashToken(joined));

        // Refusals, as the hub answers them: reused, wrong, expired, for another cluster.
        const reused = await askToJoin(hub, { token, cluster });
        assertEquals(reused.code, 401);
        assertStringIncludes(reused.message, "The join token was already used");
        const wrongSecret = `${token.split(".")[0]}.${"x".repeat(32)}`;
        const wrong = await askToJoin(hub, { token: wrongSecret, cluster });
        assertEquals(wrong.code, 401);
        assertStringIncludes(wrong.message, "The join token is not known to the hub");
        const shortLived = await createJoinToken([
          `--cluster=${cluster}`,
          `--hub=${hub.url}`,
          "--ttl=1s",
          ...hostFlags,
        ]);
        const expiry = Date.now() + 1_500;
        await waitFor(() => Date.now() > expiry, { description: "the join token to expire" });
        const expired = await askToJoin(hub, { token: shortLived.token, cluster });
        assertEquals(expired.code, 401);
        assertStringIncludes(expired.message, "The join token expired");
        const elsewhere = await createJoinToken([
          `--cluster=${cluster}`,
          `--hub=${hub.url}`,
          ...hostFlags,
        ]);
        const other = await askToJoin(hub, { token: elsewhere.token, cluster: "another" });
        assertStringIncludes(other.message, 'created for another cluster than "another"');
        assertEquals(
          (await hostHashes()).current,
          await hashToken(joined),
          "refusals change nothing",
        );
        // Single use under a race: of three joins with one token at once, exactly one wins.
        const raced = `${cluster}-race`;
        const racing = await createJoinToken([
          `--cluster=${raced}`,
          `--hub=${hub.url}`,
          ...hostFlags,
        ]);
        const answers = await Promise.all(
          [1, 2, 3].map(() => askToJoin(hub, { token: racing.token, cluster: raced })),
        );
        assertEquals(answers.map((a) => a.code).sort(), [200, 401, 401]);
        for (const answer of answers.filter((a) => a.code === 401)) {
          assertStringIncludes(answer.message, "The join token was already used");
        }

        // Rotation under load: requests through the hub all along, none may fail.
        await reachAsHostAdmin(host, hub, { cluster, path: LOAD_PATH });
        const load = startLoad(
          { url: hub.url, caPem: hub.caPem, bearer: host.adminToken },
          { cluster, path: LOAD_PATH },
        );
        const firstHash = await hashToken(joined);
        const rotated = await waitFor(async () => {
          const hashes = await hostHashes();
          return hashes.current !== firstHash && hashes.previous?.hash === firstHash && hashes;
        }, { timeoutMs: 60_000, description: "the agents to rotate their token" });
        // The Secret has the new token, both agents moved to it, and the previous is dropped.
        await waitFor(async () => (await hostHashes()).previous === undefined, {
          timeoutMs: 60_000,
          description: "the previous token to be dropped",
        });
        const stored = atob((await memberSecret()).data.token!);
        assert(
          (await hashToken(stored)) === rotated.current ||
            (await hostHashes()).current === (await hashToken(stored)),
          "the Secret holds the token the hub accepts",
        );
        await waitFor(() => hub.agents(cluster).then((n) => n === 2), {
          timeoutMs: 30_000,
          description: "both agents connected after the rotation",
        });
        const { requests, failures } = await load.stop();
        console.log(`rotation under load: ${requests} requests, ${failures.length} failed`);
        for (const failure of failures.slice(0, 5)) console.log(failure);
        assert(requests > 50, `the load ran (${requests} requests)`);
        assertEquals(failures, [], "no request failed during the rotation");

        // A rotation cut short after the next token was stored (the agent's first step): the
        // next start finishes it, and the hub then accepts only that token.
        for (const agent of agents) await agent.stop();
        const next = newAgentToken();
        await kubectlOk(west, [
          "patch",
          "secret",
          "mca-agent",
          "-n",
          agentNamespace,
          "--type=merge",
          `-p=${JSON.stringify({ data: { "next-token": btoa(next) } })}`,
        ]);
        agents.push(await startMca(agentArgs, { dir: dir.path, name: "agent-c" }));
        await waitFor(() => hub.agents(cluster).then((n) => n === 1), {
          timeoutMs: 30_000,
          description: "the restarted agent to connect",
        });
        assertEquals((await hostHashes()).current, await hashToken(next));
        const finished = await memberSecret();
        assertEquals(atob(finished.data.token!), next);
        assertEquals(finished.data["next-token"], undefined);
      } finally {
        for (const agent of agents) await agent.stop();
      }
      assertEquals(
        (await kubectl(west, [
          "auth",
          "can-i",
          "list",
          "secrets",
          "-n",
          agentNamespace,
          `--as=system:serviceaccount:${agentNamespace}:mca-agent`,
        ])).stdout.trim(),
        "no",
      );
    } finally {
      await fixture.stop();
    }
  },
);
