/**
 * `mca agent uninstall`: deletes what install created and nothing else, again and again, after
 * objects were deleted by hand, and waits for the agent's pods with a deadline.
 */
import { assert, assertEquals, assertStringIncludes } from "../_utils/assert.ts";
import { e2eTest, kubectl, kubectlOk, uniqueName } from "../_utils/e2e.ts";
import { tempDir } from "../_utils/temp_dir.ts";
import { agentTokenSecretName, joinTokenSecretName } from "../../src/members/mod.ts";
import { createJoinToken } from "../_utils/join_tokens.ts";
import { type HubFixture, startHubFixture } from "../_utils/hub_fixture.ts";
import { runMca } from "../_utils/mca_process.ts";
import type { TestEnv } from "../../src/testenv/mod.ts";

const MCA_LABEL = "app.kubernetes.io/part-of=mca";

/** `mca agent install|uninstall` for one member name and agent namespace, host and west. */
function agentCommands(env: TestEnv, fixture: HubFixture, member: string, namespace: string) {
  const common = [
    `--cluster=${member}`,
    `--kubeconfig=${env.cluster("host").kubeconfigPath}`,
    `--member-kubeconfig=${env.cluster("west").kubeconfigPath}`,
    `--hub-namespace=${fixture.namespace}`,
    `--agent-namespace=${namespace}`,
  ];
  return {
    install: async () => {
      const result = await runMca([
        "agent",
        "install",
        `--hub=${fixture.hub.url}`,
        "--wait=0",
        ...common,
      ]);
      assertEquals(result.code, 0, result.stderr);
    },
    uninstall: (extra: string[] = []) => runMca(["agent", "uninstall", ...common, ...extra]),
  };
}

/** Whether the object exists and is not being deleted (namespaces never finish deleting here). */
async function present(env: TestEnv, cluster: string, args: string[]): Promise<boolean> {
  const result = await kubectl(env.cluster(cluster), [
    "get",
    ...args,
    "-o",
    "jsonpath={.metadata.deletionTimestamp}",
  ]);
  return result.code === 0 && result.stdout.trim() === "";
}

e2eTest(
  "mca agent uninstall deletes what install created (dry run first), then finds it all gone",
  async (env) => {
    const west = env.cluster("west");
    await using dir = await tempDir();
    const fixture = await startHubFixture(env, dir.path);
    const member = uniqueName("west");
    const namespace = uniqueName("mca-agent");
    const { install, uninstall } = agentCommands(env, fixture, member, namespace);
    const joinSecret = async (cluster: string) => {
      const { token } = await createJoinToken([
        `--cluster=${cluster}`,
        `--hub=${fixture.hub.url}`,
        `--kubeconfig=${env.cluster("host").kubeconfigPath}`,
        `--hub-namespace=${fixture.namespace}`,
      ]);
      return joinTokenSecretName(token.split(".")[0]!);
    };
    try {
      await install();
      // A join token made for this member and never used, and one of another member.
      const ours = await joinSecret(member);
      const theirs = await joinSecret(uniqueName("other"));
      const dryRun = await uninstall(["--dry-run"]);
      assertEquals(dryRun.code, 0, dryRun.stderr);
      assertEquals(dryRun.stdout.trim().split("\n"), [
        `Deployment ${namespace}/mca-agent on the member`,
        `Secret ${namespace}/mca-agent on the member`,
        "ClusterRoleBinding mca-agent-impersonator on the member",
        "ClusterRole mca-agent-impersonator on the member",
        `RoleBinding ${namespace}/mca-agent on the member`,
        `Role ${namespace}/mca-agent on the member`,
        `ServiceAccount ${namespace}/mca-agent on the member`,
        `Namespace ${namespace} on the member`,
        `Cluster ${member} on the host`,
        `Secret ${fixture.namespace}/${agentTokenSecretName(member)} on the host`,
        `Secret ${fixture.namespace}/${ours} on the host`,
      ]);
      assert(await present(env, "west", ["deployment", "mca-agent", "-n", namespace]));
      assert(await present(env, "host", ["secret", ours, "-n", fixture.namespace]));

      const first = await uninstall(["--wait=30s"]);
      assertEquals(first.code, 0, first.stderr);
      assertStringIncludes(
        first.stderr,
        `Deleting Deployment ${namespace}/mca-agent on the member`,
      );
      assertStringIncludes(first.stderr, "The agent's pods are gone");
      assertStringIncludes(first.stderr, "Done: 11 deleted, 2 already gone, 0 kept");
      const left = await kubectlOk(west, [
        "get",
        "deployments,replicasets,pods,secrets,serviceaccounts,configmaps,roles,rolebindings",
        "-n",
        namespace,
        "-l",
        MCA_LABEL,
        "-o",
        "name",
      ]);
      assertEquals(left.trim(), "", "nothing labelled by mca is left in the agent namespace");
      assertEquals(
        (await kubectlOk(west, [
          "get",
          "clusterroles,clusterrolebindings",
          "-l",
          MCA_LABEL,
          "-o",
          "name",
        ]))
          .trim(),
        "",
      );
      assert(!(await present(env, "west", ["namespace", namespace])), "the namespace is deleted");
      assert(!(await present(env, "host", ["clusters.mca.k8s.io", member])));
      assert(
        !(await present(env, "host", [
          "secret",
          agentTokenSecretName(member),
          "-n",
          fixture.namespace,
        ])),
      );
      assert(!(await present(env, "host", ["secret", ours, "-n", fixture.namespace])));
      assert(
        await present(env, "host", ["secret", theirs, "-n", fixture.namespace]),
        "another member's join token stays",
      );

      const again = await uninstall();
      assertEquals(again.code, 0, again.stderr);
      assertStringIncludes(
        again.stderr,
        `Deployment ${namespace}/mca-agent on the member: already gone`,
      );
      assertStringIncludes(
        again.stderr,
        `Namespace ${namespace} on the member: already being deleted`,
      );
      assertStringIncludes(again.stderr, `Cluster ${member} on the host: already gone`);
      assertStringIncludes(again.stderr, "Done: 0 deleted, 12 already gone, 0 kept");
    } finally {
      await fixture.stop();
    }
  },
);

e2eTest(
  "mca agent uninstall keeps a namespace that existed before, and what others made, after objects were deleted by hand",
  async (env) => {
    const west = env.cluster("west");
    await using dir = await tempDir();
    const fixture = await startHubFixture(env, dir.path);
    const member = uniqueName("west");
    const namespace = uniqueName("mca-agent");
    const { install, uninstall } = agentCommands(env, fixture, member, namespace);
    try {
      await kubectlOk(west, ["create", "namespace", namespace]);
      await kubectlOk(west, ["create", "configmap", "theirs", "-n", namespace]);
      await install();
      // A partial install, as seen after someone cleaned up by hand.
      await kubectlOk(west, ["delete", "secret", "mca-agent", "-n", namespace]);
      await kubectlOk(west, ["delete", "clusterrole", "mca-agent-impersonator"]);
      // No kubelet here: a pod of the agent stays until it is deleted by hand.
      await kubectlOk(west, ["apply", "-f", "-"], {
        stdin: JSON.stringify({
          apiVersion: "v1",
          kind: "Pod",
          metadata: {
            name: "mca-agent-x",
            namespace,
            labels: { "app.kubernetes.io/name": "mca-agent", "app.kubernetes.io/part-of": "mca" },
          },
          spec: {
            serviceAccountName: "mca-agent",
            automountServiceAccountToken: false,
            containers: [{ name: "agent", image: "mca" }],
          },
        }),
      });

      const timedOut = await uninstall(["--wait=2s"]);
      assertEquals(timedOut.code, 1, timedOut.stderr);
      assertStringIncludes(
        timedOut.stderr,
        `Secret ${namespace}/mca-agent on the member: already gone`,
      );
      assertStringIncludes(
        timedOut.stderr,
        "ClusterRole mca-agent-impersonator on the member: already gone",
      );
      assertStringIncludes(
        timedOut.stderr,
        `Keeping Namespace ${namespace} on the member: it existed before`,
      );
      assertStringIncludes(
        timedOut.stderr,
        `Timed out after 2 s waiting for the agent's pods in namespace "${namespace}" on the member to be gone: last error: still there: mca-agent-x`,
      );
      assert(await present(env, "west", ["namespace", namespace]));
      assert(await present(env, "west", ["configmap", "theirs", "-n", namespace]));
      const labels = JSON.parse(
        await kubectlOk(west, ["get", "namespace", namespace, "-o", "jsonpath={.metadata.labels}"]),
      );
      assertEquals(
        labels,
        { "kubernetes.io/metadata.name": namespace },
        "install's labels taken back",
      );
      assert(!(await present(env, "host", ["clusters.mca.k8s.io", member])));

      await kubectlOk(west, ["delete", "pod", "mca-agent-x", "-n", namespace]);
      const waited = await uninstall(["--wait"]);
      assertEquals(waited.code, 0, waited.stderr);
      assertStringIncludes(waited.stderr, "The agent's pods are gone");
      assert(await present(env, "west", ["configmap", "theirs", "-n", namespace]));
    } finally {
      await fixture.stop();
    }
  },
);

e2eTest(
  "mca agent uninstall keeps a namespace it created that holds others' objects, and a Cluster it did not register",
  async (env) => {
    const west = env.cluster("west");
    const host = env.cluster("host");
    await using dir = await tempDir();
    const fixture = await startHubFixture(env, dir.path);
    const member = uniqueName("west");
    const namespace = uniqueName("mca-agent");
    const { install, uninstall } = agentCommands(env, fixture, member, namespace);
    try {
      await install();
      await kubectlOk(west, ["create", "configmap", "theirs", "-n", namespace]);
      const result = await uninstall();
      assertEquals(result.code, 0, result.stderr);
      assertStringIncludes(
        result.stderr,
        `Keeping Namespace ${namespace} on the member: it holds objects mca agent install did not create: ConfigMap/theirs`,
      );
      assert(await present(env, "west", ["configmap", "theirs", "-n", namespace]));
      assert(!(await present(env, "west", ["serviceaccount", "mca-agent", "-n", namespace])));

      // Registered by hand: neither install's Cluster nor its token Secret.
      const handMade = uniqueName("hand-made");
      await kubectlOk(host, ["apply", "-f", "-"], {
        stdin: JSON.stringify({
          apiVersion: "mca.k8s.io/v1alpha1",
          kind: "Cluster",
          metadata: { name: handMade },
        }),
      });
      await kubectlOk(host, [
        "create",
        "secret",
        "generic",
        agentTokenSecretName(handMade),
        "-n",
        fixture.namespace,
        "--from-literal=token-sha256=x",
      ]);
      const other = await agentCommands(env, fixture, handMade, uniqueName("none")).uninstall();
      assertEquals(other.code, 0, other.stderr);
      assertStringIncludes(
        other.stderr,
        `Keeping Cluster ${handMade} on the host: mca agent install did not register it`,
      );
      assertStringIncludes(other.stderr, "it lacks the label mca.k8s.io/agent-token");
      assert(await present(env, "host", ["clusters.mca.k8s.io", handMade]));
    } finally {
      await fixture.stop();
    }
  },
);

e2eTest(
  "mca agent uninstall --host-only removes the host's objects and never reaches the member",
  async (env) => {
    await using dir = await tempDir();
    const fixture = await startHubFixture(env, dir.path);
    const member = uniqueName("west");
    const namespace = uniqueName("mca-agent");
    const { install } = agentCommands(env, fixture, member, namespace);
    const hostFlags = [
      `--cluster=${member}`,
      `--kubeconfig=${env.cluster("host").kubeconfigPath}`,
      `--hub-namespace=${fixture.namespace}`,
    ];
    try {
      await install();
      const { token } = await createJoinToken([...hostFlags, `--hub=${fixture.hub.url}`]);
      const joinSecret = joinTokenSecretName(token.split(".")[0]!);

      const mixed = await runMca([
        "agent",
        "uninstall",
        "--host-only",
        `--member-kubeconfig=${env.cluster("west").kubeconfigPath}`,
        ...hostFlags,
      ]);
      assertEquals(mixed.code, 2, mixed.stderr);
      assertStringIncludes(mixed.stderr, "--host-only does not reach the member");

      const dryRun = await runMca(["agent", "uninstall", "--host-only", "--dry-run", ...hostFlags]);
      assertEquals(dryRun.code, 0, dryRun.stderr);
      assertEquals(dryRun.stdout.trim().split("\n"), [
        `Cluster ${member} on the host`,
        `Secret ${fixture.namespace}/${agentTokenSecretName(member)} on the host`,
        `Secret ${fixture.namespace}/${joinSecret} on the host`,
      ]);

      const removed = await runMca(["agent", "uninstall", "--host-only", ...hostFlags]);
      assertEquals(removed.code, 0, removed.stderr);
      assertStringIncludes(removed.stderr, "Leaving the member alone (--host-only)");
      assertStringIncludes(removed.stderr, "Done: 3 deleted, 0 already gone, 0 kept");
      assert(!(await present(env, "host", ["clusters.mca.k8s.io", member])));
      for (const secret of [agentTokenSecretName(member), joinSecret]) {
        assert(!(await present(env, "host", ["secret", secret, "-n", fixture.namespace])), secret);
      }
      // The member's objects are as install left them: --host-only never touched them.
      assert(await present(env, "west", ["deployment", "mca-agent", "-n", namespace]));
      assert(await present(env, "west", ["namespace", namespace]));

      const again = await runMca(["agent", "uninstall", "--host-only", ...hostFlags]);
      assertEquals(again.code, 0, again.stderr);
      assertStringIncludes(again.stderr, "Done: 0 deleted, 2 already gone, 0 kept");
    } finally {
      await fixture.stop();
    }
  },
);
