/**
 * The chart's rollout on real pods: two webhook replicas behind their PodDisruptionBudget keep
 * injecting while one is evicted and while both are replaced (the API server keeps calling a
 * replica until its endpoints drop it), and a rollout of the hub replicas fails no request
 * through the hub's NodePort while the agents on east move from each stopping replica to
 * another.
 */
import { assert, assertEquals, assertStringIncludes } from "../_utils/assert.ts";
import { e2eTest, kubectl, kubectlOk, uniqueName } from "../_utils/e2e.ts";
import { startKubectl } from "../_utils/kubectl_session.ts";
import { injectedNamespace, installAgent, installMcaChart } from "../_utils/mca_chart.ts";
import { apply } from "../_utils/pods.ts";
import { startRequestLoad } from "../_utils/request_load.ts";
import { waitFor } from "../../src/common/mod.ts";

e2eTest(
  "the chart's rollout: two webhook replicas behind their PodDisruptionBudget keep injecting while one is evicted and while both are replaced, and the hub's replicas roll over with their agents",
  async (env) => {
    const host = env.cluster("host");
    const { hubUrl, hubCaPem } = await installMcaChart(env);
    await installAgent(env, "east");
    const get = async (kind: string, name: string) =>
      JSON.parse(await kubectlOk(host, ["get", kind, name, "-n", "mca-system", "-o", "json"]));
    /** The objects of a kind with a label. */
    const listed = async (kind: string, selector: string) => (JSON.parse(
      await kubectlOk(host, ["get", kind, "-n", "mca-system", "-l", selector, "-o", "json"]),
    ).items as { metadata: { name: string }; spec?: { holderIdentity?: string } }[]);
    for (const name of ["mca-webhook", "mca-hub"]) {
      const deployment = await get("deployment", name);
      assertEquals(deployment.spec.replicas, 2, `${name} replicas`);
      assertEquals(deployment.status.readyReplicas, 2, `${name} ready`);
    }
    const budget = await waitFor(async () => {
      const pdb = await get("poddisruptionbudget", "mca-webhook");
      return pdb.status?.currentHealthy === 2 ? pdb : false;
    }, { description: "the webhook's PodDisruptionBudget to count two healthy replicas" });
    assertEquals(budget.spec.minAvailable, 1);
    assertEquals(budget.status.disruptionsAllowed, 1);
    const leases = await listed("leases", "mca.k8s.io/hub-replica=true");
    const hubPods = (await listed("pods", "app.kubernetes.io/component=hub"))
      .map((pod) => pod.metadata.name).sort();
    assertEquals(
      leases.map((lease) => lease.spec?.holderIdentity).sort(),
      hubPods,
      "each hub replica publishes its Lease",
    );

    const ns = await injectedNamespace(host, uniqueName("rollout"));
    let created = 0;
    const createInjected = async () => {
      const name = `app-${++created}`;
      await apply(host, {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name, namespace: ns },
        spec: {
          containers: [{
            name: "app",
            image: env.images!.kubectl.ref,
            imagePullPolicy: "Never",
            args: ["version", "--client"],
          }],
          restartPolicy: "Never",
        },
      });
      const pod = JSON.parse(await kubectlOk(host, ["get", "pod", name, "-n", ns, "-o", "json"]));
      assert(pod.metadata.annotations?.["mca.k8s.io/status"], `${name} was injected`);
    };

    // Evictions respect the budget: one webhook replica may go, not the second.
    const webhookPods = (await listed("pods", "app.kubernetes.io/component=webhook"))
      .map((pod) => pod.metadata.name);
    assertEquals(webhookPods.length, 2);
    const evict = (pod: string) =>
      kubectl(host, [
        "create",
        "--raw",
        `/api/v1/namespaces/mca-system/pods/${pod}/eviction`,
        "-f",
        "-",
      ], {
        stdin: JSON.stringify({
          apiVersion: "policy/v1",
          kind: "Eviction",
          metadata: { name: pod, namespace: "mca-system" },
        }),
      });
    assertEquals((await evict(webhookPods[0]!)).code, 0, "the first eviction is allowed");
    const refused = await evict(webhookPods[1]!);
    assert(refused.code !== 0, "the second eviction is refused");
    assertStringIncludes(refused.stderr, "disruption budget");
    await createInjected();

    // A rolling restart of each Deployment while opted-in pods keep being created, and requests
    // to east go through the hub's NodePort (new TLS clients every 20 requests, as kube-proxy
    // spreads new connections over the endpoints of the moment).
    const load = startRequestLoad(`${hubUrl}/clusters/east/api/v1/namespaces/default`, {
      token: host.adminToken,
      trust: () => hubCaPem,
      workers: 3,
    });
    let stopped: Awaited<ReturnType<typeof load.stop>> | undefined;
    try {
      await waitFor(() => load.ok() > 20 || undefined, { description: "requests through the hub" });
      for (const deployment of ["mca-webhook", "mca-hub"]) {
        load.phase(`${deployment} rollout`);
        await kubectlOk(host, [
          "rollout",
          "restart",
          `deployment/${deployment}`,
          "-n",
          "mca-system",
        ]);
        const rollout = await startKubectl(host, [
          "rollout",
          "status",
          `deployment/${deployment}`,
          "-n",
          "mca-system",
          "--timeout=3m",
        ]);
        let done = false;
        rollout.exited.then(() => done = true);
        while (!done) await createInjected();
        assertEquals(await rollout.exited, 0, `${deployment} rolled out: ${rollout.stderr()}`);
        await rollout[Symbol.asyncDispose]();
      }
      // The agents are on the new hub replicas: requests go on after the rollout.
      load.phase("after the rollouts");
      const mark = load.ok();
      await waitFor(() => load.ok() > mark + 20 || undefined, {
        description: "requests through the new hub replicas",
        timeoutMs: 60_000,
      });
      const result = stopped = await load.stop();
      console.log(`hub load during the rollouts: ${result.ok} ok, ${result.failed} failed`);
      assertEquals(result.failed, 0, `failed requests: ${result.failures.join("\n")}`);
      const agentLogs = await kubectlOk(env.cluster("east"), [
        "logs",
        "-n",
        "mca-agent",
        "-l",
        "app.kubernetes.io/name=mca-agent",
        "--tail=-1",
      ]);
      assertStringIncludes(agentLogs, "hub replica stopping", "the agents moved when told to");
    } finally {
      if (!stopped) await load.stop();
    }
    assert(created >= 3, `${created} opted-in pods were created and injected during the rollout`);
  },
  { nodes: true },
);
