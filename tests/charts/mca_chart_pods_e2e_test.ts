/**
 * charts/mca installed with helm on a cluster with a real node, from the locally built mca
 * image: the webhook and hub pods run as the chart deploys them; a pod that opts in is
 * injected by the webhook and runs the demo's unmodified app through its mca-proxy sidecar; and
 * `mca agent install` puts agent pods on east's node that dial the hub pods on host.
 */
import { allowPrivilegedHostIdentities } from "../_utils/cluster_mapping.ts";
import { assertEquals, assertStringIncludes } from "../_utils/assert.ts";
import { e2eTest, kubectl, kubectlOk, uniqueName } from "../_utils/e2e.ts";
import { mcaCommand } from "../_utils/mca_process.ts";
import { apply, getPod, podLogs, waitForPhase } from "../_utils/pods.ts";
import { runCommand } from "../_utils/run_command.ts";
import { tempDir } from "../_utils/temp_dir.ts";
import { renderKubeconfig } from "../../src/kube/mod.ts";
import { waitFor } from "../../src/common/mod.ts";
import { installMcaChart } from "../_utils/mca_chart.ts";

e2eTest(
  "helm install on a node: webhook and hub pods run from the local image, and an opted-in app runs through its injected sidecar",
  async (env) => {
    const host = env.cluster("host");
    const images = env.images!;
    await installMcaChart(env);
    for (const deployment of ["mca-webhook", "mca-hub"]) {
      const status = JSON.parse(
        await kubectlOk(host, ["get", "deployment", deployment, "-n", "mca-system", "-o", "json"]),
      );
      assertEquals(status.status.readyReplicas, status.spec.replicas, `${deployment} is ready`);
      assertEquals(status.spec.template.spec.containers[0].image, images.mca.ref);
    }

    const ns = uniqueName("injected");
    await kubectlOk(host, ["create", "namespace", ns]);
    await kubectlOk(host, ["label", "namespace", ns, "mca.k8s.io/inject=enabled"]);
    await kubectlOk(host, [
      "create",
      "rolebinding",
      "app-edit",
      "-n",
      ns,
      "--clusterrole=edit",
      `--serviceaccount=${ns}:default`,
    ]);
    await kubectlOk(host, [
      "wait",
      "-n",
      ns,
      "--for=create",
      "serviceaccount/default",
      "--timeout=60s",
    ]);
    await apply(host, {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "app", namespace: ns },
      spec: {
        restartPolicy: "Never",
        containers: [{ name: "app", image: images.sampleApp.ref, imagePullPolicy: "Never" }],
      },
    });
    const pod = await getPod(host, ns, "app") as unknown as {
      spec: { initContainers?: Array<{ name: string; image: string; restartPolicy?: string }> };
    };
    const sidecar = pod.spec.initContainers?.find((c) => c.name === "mca-proxy");
    assertEquals(sidecar?.image, images.mca.ref, "the webhook injected the mca-proxy sidecar");
    assertEquals(sidecar?.restartPolicy, "Always", "as a native sidecar");
    await waitForPhase(host, ns, "app", "Succeeded", 120_000);
    const app = await podLogs(host, ns, "app", "app");
    assertStringIncludes(app, "API server: https://127.0.0.1:6443");
    assertStringIncludes(app, "read order-1001 by name: quantity 3");
    assertStringIncludes(await podLogs(host, ns, "app", "mca-proxy"), "proxy listening");
    const stored = JSON.parse(
      await kubectlOk(host, ["get", "configmap", "order-1001", "-n", ns, "-o", "json"]),
    );
    assertEquals(stored.data.quantity, "3");
  },
  { nodes: true },
);

e2eTest(
  "mca agent install: agent pods on east's node dial the hub pods on host, and kubectl reaches east through the hub",
  async (env) => {
    const host = env.cluster("host");
    const east = env.cluster("east");
    const { hubUrl } = await installMcaChart(env);
    await using dir = await tempDir("mca-agent-pods-");
    // The hub authenticates bearer tokens (TokenReview): the host admin's static token.
    const hostKubeconfig = await dir.write(
      "host.kubeconfig",
      renderKubeconfig([{
        name: "host",
        server: host.url,
        caPem: host.caPem,
        user: { token: host.adminToken },
      }]),
    );
    const [command, ...prefix] = mcaCommand();
    const install = await runCommand(command!, [
      ...prefix,
      "agent",
      "install",
      `--hub=${hubUrl}`,
      "--cluster=east",
      `--kubeconfig=${hostKubeconfig}`,
      `--member-kubeconfig=${east.kubeconfigPath}`,
      `--image=${env.images!.mca.ref}`,
      "--wait=3m",
    ]);
    assertEquals(install.code, 0, `mca agent install failed:\n${install.stderr}${install.stdout}`);
    // Over an agent installed before (the monitoring test's), install rolls its pods: poll.
    const running = await waitFor(async () => {
      const agents = JSON.parse(
        await kubectlOk(east, ["get", "pods", "-n", "mca-agent", "-o", "json"]),
      ) as { items: Array<{ spec: { nodeName: string }; status: { phase: string } }> };
      const found = agents.items.filter((pod) => pod.status.phase === "Running");
      return found.length >= 1 ? found : undefined;
    }, { timeoutMs: 60_000, description: "agent pods running on east" });
    for (const pod of running) assertEquals(pod.spec.nodeName, east.node!.name);
    // The hub writes the Cluster's status after it accepted the session, not before install's
    // wait for ready pods ends.
    await waitFor(async () => {
      const cluster = JSON.parse(
        await kubectlOk(host, ["get", "clusters.mca.k8s.io", "east", "-o", "json"]),
      );
      const conditions: { type: string; status: string }[] = cluster.status?.conditions ?? [];
      return conditions.find((c) => c.type === "Connected")?.status === "True" || undefined;
    }, { timeoutMs: 30_000, description: "the Cluster east Connected" });

    // The host admin (system:masters) reads east through the hub: an explicit opt-in.
    await allowPrivilegedHostIdentities(host, "east");
    // A kubeconfig through the hub, as a workstation would use it.
    const caFile = await dir.write(
      "hub-ca.crt",
      atob(
        JSON.parse(
          await kubectlOk(host, ["get", "secret", "mca-hub-ca", "-n", "mca-system", "-o", "json"]),
        ).data["ca.crt"],
      ),
    );
    const members = `${dir.path}/members.kubeconfig`;
    const written = await runCommand(command!, [
      ...prefix,
      "kubeconfig",
      `--hub=${hubUrl}`,
      `--hub-ca-file=${caFile}`,
      "--clusters=east",
      `--kubeconfig=${hostKubeconfig}`,
      "-o",
      members,
    ]);
    assertEquals(written.code, 0, written.stderr);
    const marker = uniqueName("through-hub");
    await kubectlOk(east, ["create", "configmap", marker, "-n", "default"]);
    const through = await waitFor(async () => {
      const result = await kubectl(members, [
        "--context=east",
        "get",
        "configmap",
        marker,
        "-n",
        "default",
        "-o",
        "name",
      ]);
      return result.code === 0 && result.stdout.trim();
    }, { timeoutMs: 30_000, description: "a ConfigMap of east through the hub" });
    assertEquals(through, `configmap/${marker}`);
  },
  { nodes: true },
);
