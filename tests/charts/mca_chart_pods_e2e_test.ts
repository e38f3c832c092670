/**
 * charts/mca installed with helm on a cluster with a real node, from the locally built mca
 * image: the webhook and hub pods run as the chart deploys them, and a pod that opts in is
 * injected by the webhook and runs the demo's unmodified app through its mca-proxy sidecar.
 */
import { assertEquals, assertStringIncludes } from "../_utils/assert.ts";
import { e2eTest, kubectlOk, uniqueName } from "../_utils/e2e.ts";
import { apply, getPod, podLogs, waitForPhase } from "../_utils/pods.ts";
import { CHART_DIR, chartTools, runOk } from "./_chart.ts";

e2eTest(
  "helm install on a node: webhook and hub pods run from the local image, and an opted-in app runs through its injected sidecar",
  async (env) => {
    const host = env.cluster("host");
    const images = env.images!;
    const { helm } = await chartTools();
    const [repository, tag] = images.mca.ref.split(":") as [string, string];
    const helmArgs = [`--kubeconfig=${host.kubeconfigPath}`, "--namespace=mca-system"];
    await runOk(helm, [
      "install",
      "mca",
      CHART_DIR,
      ...helmArgs,
      "--create-namespace",
      `--set=image.repository=${repository}`,
      `--set=image.tag=${tag}`,
      "--set=image.pullPolicy=Never",
      "--wait",
      "--timeout=3m",
    ]);
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
