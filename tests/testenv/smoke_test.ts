/** The test control planes behave like real clusters for what mca needs. */
import { assert, assertEquals, assertStringIncludes } from "../_utils/assert.ts";
import { e2eTest, kubectl, kubectlOk, uniqueName } from "../_utils/e2e.ts";
import { createTestPki } from "../_utils/test_pki.ts";
import { waitFor } from "../../src/common/mod.ts";
import { renderKubeconfig } from "../../src/kube/mod.ts";
import { tempDir } from "../_utils/temp_dir.ts";

e2eTest(
  "kubectl creates and lists objects in each cluster, and the clusters stay apart",
  async (env) => {
    const name = uniqueName("smoke");
    for (const cluster of env.clusters) {
      await kubectlOk(cluster, [
        "create",
        "configmap",
        name,
        `--from-literal=cluster=${cluster.name}`,
      ]);
    }
    for (const cluster of env.clusters) {
      const list = JSON.parse(await kubectlOk(cluster, ["get", "configmaps", "-o", "json"]));
      const mine = list.items.filter((item: { metadata: { name: string } }) =>
        item.metadata.name === name
      );
      assertEquals(mine.length, 1);
      assertEquals(mine[0].data.cluster, cluster.name);
    }
    // The combined kubeconfig reaches every cluster by context.
    const version = JSON.parse(
      await kubectlOk(env.kubeconfigPath, ["--context", "west", "version", "-o", "json"]),
    );
    assertEquals(version.serverVersion.gitVersion, "v1.34.10");
  },
);

e2eTest("a CRD can be created and used", async (env) => {
  const east = env.cluster("east");
  const group = `${uniqueName("g")}.mca.test`;
  await kubectlOk(east, ["apply", "-f", "-"], {
    stdin: JSON.stringify({
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      metadata: { name: `widgets.${group}` },
      spec: {
        group,
        scope: "Namespaced",
        names: { plural: "widgets", singular: "widget", kind: "Widget" },
        versions: [{
          name: "v1",
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: { type: "object", x_kubernetes_preserve_unknown_fields: true },
          },
        }],
      },
    }).replace("x_kubernetes_preserve_unknown_fields", "x-kubernetes-preserve-unknown-fields"),
  });
  await kubectlOk(east, [
    "wait",
    "--for=condition=Established",
    `crd/widgets.${group}`,
    "--timeout=30s",
  ]);
  const widget = {
    apiVersion: `${group}/v1`,
    kind: "Widget",
    metadata: { name: "w1" },
    spec: { size: 3 },
  };
  await waitFor(
    async () =>
      (await kubectl(east, ["apply", "-f", "-"], { stdin: JSON.stringify(widget) })).code === 0,
    {
      description: "the Widget kind to be served",
    },
  );
  const stored = JSON.parse(await kubectlOk(east, ["get", `widgets.${group}`, "w1", "-o", "json"]));
  assertEquals(stored.spec.size, 3);
});

e2eTest("TokenRequest, TokenReview and SubjectAccessReview work", async (env) => {
  const host = env.cluster("host");
  const ns = uniqueName("auth");
  await kubectlOk(host, ["create", "namespace", ns]);
  await kubectlOk(host, ["create", "serviceaccount", "robot", "-n", ns]);
  const token = (await kubectlOk(host, ["create", "token", "robot", "-n", ns, "--duration=10m"]))
    .trim();
  const review = await host.client.create<
    { status: { authenticated: boolean; user: { username: string } } }
  >(
    "/apis/authentication.k8s.io/v1/tokenreviews",
    { apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec: { token } },
  );
  assert(review.status.authenticated);
  assertEquals(review.status.user.username, `system:serviceaccount:${ns}:robot`);

  const canList = async () => {
    const sar = await host.client.create<{ status: { allowed: boolean } }>(
      "/apis/authorization.k8s.io/v1/subjectaccessreviews",
      {
        apiVersion: "authorization.k8s.io/v1",
        kind: "SubjectAccessReview",
        spec: {
          user: `system:serviceaccount:${ns}:robot`,
          groups: ["system:serviceaccounts"],
          resourceAttributes: { namespace: ns, verb: "list", resource: "pods" },
        },
      },
    );
    return sar.status.allowed;
  };
  assertEquals(await canList(), false);
  // Not the "view" ClusterRole: it is aggregated, and aggregation is a controller-manager job.
  await kubectlOk(host, [
    "create",
    "role",
    "pod-reader",
    "-n",
    ns,
    "--verb=list",
    "--resource=pods",
  ]);
  await kubectlOk(host, [
    "create",
    "rolebinding",
    "robot-reads",
    "-n",
    ns,
    "--role=pod-reader",
    `--serviceaccount=${ns}:robot`,
  ]);
  await waitFor(canList, { description: "RBAC to allow the robot to list pods" });
  // The token itself works against the API server (a kubeconfig with only the token, so that
  // no client certificate takes precedence).
  await using dir = await tempDir();
  const tokenConfig = await dir.write(
    "kubeconfig",
    renderKubeconfig([{ name: "robot", server: host.url, caPem: host.caPem, user: { token } }]),
  );
  const whoami = await kubectl(tokenConfig, [
    "auth",
    "whoami",
    "-o",
    "jsonpath={.status.userInfo.username}",
  ]);
  assertEquals(whoami.stdout, `system:serviceaccount:${ns}:robot`);
});

e2eTest(
  "a MutatingWebhookConfiguration with clientConfig.url is called on pod CREATE",
  async (env) => {
    const host = env.cluster("host");
    const pki = await createTestPki();
    const calls: string[] = [];
    const webhook = Deno.serve(
      {
        hostname: "127.0.0.1",
        port: 0,
        cert: pki.server.certificatePem,
        key: pki.server.privateKeyPem,
        onListen() {},
      },
      async (request) => {
        const review = await request.json();
        calls.push(
          `${review.request.operation} ${review.request.kind.kind} ${review.request.namespace}`,
        );
        const patch = [{ op: "add", path: "/metadata/labels", value: { mutated: "yes" } }];
        return Response.json({
          apiVersion: "admission.k8s.io/v1",
          kind: "AdmissionReview",
          response: {
            uid: review.request.uid,
            allowed: true,
            patchType: "JSONPatch",
            patch: btoa(JSON.stringify(patch)),
          },
        });
      },
    );
    const ns = uniqueName("hook");
    const configName = uniqueName("smoke-webhook");
    try {
      await kubectlOk(host, ["create", "namespace", ns]);
      await kubectlOk(host, ["label", "namespace", ns, "smoke=webhook"]);
      await kubectlOk(host, ["create", "serviceaccount", "default", "-n", ns]);
      await kubectlOk(host, ["apply", "-f", "-"], {
        stdin: JSON.stringify({
          apiVersion: "admissionregistration.k8s.io/v1",
          kind: "MutatingWebhookConfiguration",
          metadata: { name: configName },
          webhooks: [{
            name: "smoke.mca.test",
            clientConfig: {
              url: `https://127.0.0.1:${webhook.addr.port}/mutate`,
              caBundle: btoa(pki.ca.certificatePem),
            },
            rules: [{
              operations: ["CREATE"],
              apiGroups: [""],
              apiVersions: ["v1"],
              resources: ["pods"],
            }],
            namespaceSelector: { matchLabels: { smoke: "webhook" } },
            admissionReviewVersions: ["v1"],
            sideEffects: "None",
            timeoutSeconds: 5,
          }],
        }),
      });
      const pod = {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "p1", namespace: ns },
        spec: { containers: [{ name: "app", image: "registry.invalid/app:1" }] },
      };
      // The webhook configuration takes effect within a moment; retry the create until it has.
      const stored = await waitFor(async () => {
        const created = await host.client.create<
          { metadata: { labels?: Record<string, string>; name: string } }
        >(
          `/api/v1/namespaces/${ns}/pods`,
          { ...pod, metadata: { ...pod.metadata, name: uniqueName("p") } },
        );
        return created.metadata.labels?.mutated === "yes" ? created : undefined;
      }, { description: "the webhook to mutate a pod" });
      assertEquals(stored.metadata.labels?.mutated, "yes");
      assertStringIncludes(calls.join("\n"), `CREATE Pod ${ns}`);
    } finally {
      await kubectl(host, ["delete", "mutatingwebhookconfiguration", configName]);
      await webhook.shutdown();
    }
  },
);

e2eTest("a watch streams events as they happen", async (env) => {
  const west = env.cluster("west");
  const ns = uniqueName("watch");
  await kubectlOk(west, ["create", "namespace", ns]);
  const controller = new AbortController();
  const events = west.client.watch(`/api/v1/namespaces/${ns}/configmaps`, {
    signal: controller.signal,
  });
  try {
    const first = events.next();
    await kubectlOk(west, ["create", "configmap", "c1", "-n", ns]);
    const event = await first;
    assertEquals(event.value?.type, "ADDED");
    assertEquals(event.value?.object.metadata?.name, "c1");
    const second = events.next();
    await kubectlOk(west, ["label", "configmap", "c1", "-n", ns, "changed=yes"]);
    assertEquals((await second).value?.type, "MODIFIED");
  } finally {
    controller.abort();
    await events.return(undefined);
  }
});
