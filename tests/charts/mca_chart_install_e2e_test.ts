/**
 * charts/mca installed with helm on a real API server, then the real `mca webhook` and
 * `mca hub` started with the arguments of the rendered Deployments and the tokens of the
 * chart's ServiceAccounts (no kubelet runs pods here): the chart's RBAC is exactly enough, and
 * Helm and the webhook share the MutatingWebhookConfiguration without fighting.
 */
import https from "node:https";
import { assert, assertEquals, assertStringIncludes } from "../_utils/assert.ts";
import { e2eTest, kubectl, kubectlOk, uniqueName } from "../_utils/e2e.ts";
import { startMca } from "../_utils/mca_process.ts";
import { tempDir } from "../_utils/temp_dir.ts";
import { renderKubeconfig } from "../../src/kube/mod.ts";
import { freePort, type ManagedProcess, type TestCluster } from "../../src/testenv/mod.ts";
import { waitFor } from "../../src/common/mod.ts";
import { CHART_DIR, chartTools, type Manifest, parseManifests, run, runOk } from "./_chart.ts";

const MWC = "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations";

type Webhook = { name: string; clientConfig: { caBundle?: string } } & Record<string, unknown>;
type Configuration = {
  metadata: { labels: Record<string, string> };
  webhooks: Webhook[];
};

/** A kubeconfig that acts as one of the chart's ServiceAccounts (a TokenRequest token). */
async function serviceAccountKubeconfig(
  host: TestCluster,
  namespace: string,
  serviceAccount: string,
  dir: { write(name: string, content: string): Promise<string> },
): Promise<string> {
  const token = (await kubectlOk(host, [
    "create",
    "token",
    serviceAccount,
    `--namespace=${namespace}`,
    "--duration=1h",
  ])).trim();
  return await dir.write(
    `${serviceAccount}.kubeconfig`,
    renderKubeconfig([{ name: "host", server: host.url, caPem: host.caPem, user: { token } }]),
  );
}

/** The first container's args of a rendered Deployment, with the listeners moved to loopback. */
function argsOf(manifests: Manifest[], component: string, listeners: Record<string, number>) {
  const deployment = manifests.find((m) =>
    m.kind === "Deployment" && m.metadata.labels?.["app.kubernetes.io/component"] === component
  ) as unknown as { spec: { template: { spec: { containers: { args: string[] }[] } } } };
  return deployment.spec.template.spec.containers[0]!.args.map((arg) => {
    const [flag] = arg.split("=");
    const port = listeners[flag!];
    return port === undefined ? arg : `${flag}=127.0.0.1:${port}`;
  });
}

/** GET over TLS verified against `caPem` for the name `servername` (the cert's, not 127.0.0.1). */
function httpsGet(
  port: number,
  path: string,
  options: { caPem: string; servername?: string; token?: string },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = https.request({
      host: "127.0.0.1",
      port,
      path,
      ca: options.caPem,
      ...(options.servername ? { servername: options.servername } : {}),
      headers: options.token ? { authorization: `Bearer ${options.token}` } : {},
    }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => body += chunk);
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on("error", reject);
    request.end();
  });
}

async function getConfiguration(host: TestCluster, name: string) {
  return await host.client.get<Configuration>(`${MWC}/${name}`).catch(() => undefined);
}

async function secretCa(host: TestCluster, namespace: string, name: string) {
  const secret = await host.client.get<{ data: Record<string, string> }>(
    `/api/v1/namespaces/${namespace}/secrets/${name}`,
  );
  return atob(secret.data["ca.crt"]!);
}

async function canI(host: TestCluster, as: string, args: string[]): Promise<boolean> {
  const result = await kubectl(host, ["auth", "can-i", ...args, `--as=${as}`]);
  return result.stdout.trim() === "yes";
}

async function waitForLog(process: ManagedProcess, text: string | RegExp, description: string) {
  const found = (log: string) => typeof text === "string" ? log.includes(text) : text.test(log);
  await waitFor(async () => found(await Deno.readTextFile(process.logPath)), {
    timeoutMs: 30_000,
    description,
  }).catch(async (error) => {
    throw new Error(`${error.message}\n${await process.tail()}`);
  });
}

e2eTest(
  "helm install: the webhook runs with the chart's arguments and RBAC, and shares its configuration with Helm",
  async (env) => {
    const host = env.cluster("host");
    const { helm } = await chartTools();
    await using dir = await tempDir("mca-chart-e2e-");
    // The release name contains "mca", so the objects are named <release>-webhook and the
    // cluster-scoped ones cannot clash with another test's.
    const release = uniqueName("mca-chart");
    const namespace = release;
    const webhookName = `${release}-webhook`;
    // Ignore: no webhook pod really runs here, and other tests create pods on this cluster.
    const values = await dir.write(
      "values.json",
      JSON.stringify({ hub: { enabled: false }, webhook: { failurePolicy: "Ignore" } }),
    );
    const helmArgs = [`--kubeconfig=${host.kubeconfigPath}`, `--namespace=${namespace}`];
    await runOk(helm, [
      "install",
      release,
      CHART_DIR,
      ...helmArgs,
      "--create-namespace",
      `--values=${values}`,
    ]);
    try {
      const manifests = parseManifests(
        await runOk(helm, ["get", "manifest", release, ...helmArgs]),
      );
      const rendered = manifests.find((m) =>
        m.kind === "MutatingWebhookConfiguration"
      ) as unknown as
        & Manifest
        & Configuration;
      assertEquals(rendered.metadata.name, release);
      const kubeconfig = await serviceAccountKubeconfig(host, namespace, webhookName, dir);
      const port = freePort();
      const start = () =>
        startMca([
          ...argsOf(manifests, "webhook", { "--listen": port }),
          `--kubeconfig=${kubeconfig}`,
        ], { dir: dir.path, name: "webhook", env: { POD_NAMESPACE: namespace } });

      let webhook = await start();
      try {
        // Ready means: CA Secret created, configuration read, caBundle patched, watch running.
        const caPem = await waitFor(async () => {
          const live = await getConfiguration(host, release);
          if (!live?.webhooks.every((w) => w.clientConfig.caBundle)) return false;
          const bundle = atob(live.webhooks[0]!.clientConfig.caBundle!);
          const ready = await httpsGet(port, "/readyz", {
            caPem: bundle,
            servername: `${webhookName}.${namespace}.svc`,
          });
          return ready.status === 200 && bundle;
        }, { timeoutMs: 30_000, description: "the webhook to be ready" }).catch(async (error) => {
          throw new Error(`${error.message}\n${await webhook.tail()}`);
        });
        assertEquals(caPem, await secretCa(host, namespace, "mca-webhook-ca"));

        // The webhook set the caBundles and nothing else: the rest is Helm's, as rendered.
        const withoutBundles = (configuration: Configuration) =>
          configuration.webhooks.map((w) => ({
            ...w,
            clientConfig: { ...w.clientConfig, caBundle: undefined },
          }));
        const live = (await getConfiguration(host, release))!;
        assertEquals(withoutBundles(live), withoutBundles(rendered));
        assertEquals(live.metadata.labels["app.kubernetes.io/managed-by"], "Helm");

        // A reset caBundle is put back, still without touching Helm's fields.
        await kubectlOk(host, [
          "patch",
          "mutatingwebhookconfiguration",
          release,
          "--type=json",
          `-p=${JSON.stringify([{ op: "remove", path: "/webhooks/1/clientConfig/caBundle" }])}`,
        ]);
        await waitFor(async () => {
          const repaired = await getConfiguration(host, release);
          return repaired?.webhooks[1]?.clientConfig.caBundle === btoa(caPem);
        }, { description: "the webhook to restore the caBundle" });
        assertEquals(
          withoutBundles((await getConfiguration(host, release))!),
          withoutBundles(rendered),
        );

        // helm upgrade leaves the caBundle alone: with the webhook stopped, nobody could repair it.
        await webhook.stop();
        await runOk(helm, [
          "upgrade",
          release,
          CHART_DIR,
          ...helmArgs,
          "--reuse-values",
          "--set=commonLabels.upgraded=yes",
        ]);
        const upgraded = (await getConfiguration(host, release))!;
        assertEquals(upgraded.metadata.labels.upgraded, "yes");
        assertEquals(upgraded.webhooks.map((w) => w.clientConfig.caBundle), [
          btoa(caPem),
          btoa(caPem),
        ]);

        // The webhook may not create the configuration: once deleted, it stays deleted.
        webhook = await start();
        await waitForLog(webhook, "webhook listening", "the restarted webhook to listen");
        await kubectlOk(host, ["delete", "mutatingwebhookconfiguration", release]);
        await waitForLog(
          webhook,
          /cannot create resource .*mutatingwebhookconfigurations/,
          "the webhook's create to be refused",
        );
        assertEquals(await getConfiguration(host, release), undefined);
      } finally {
        await webhook.stop();
      }

      const as = `system:serviceaccount:${namespace}:${webhookName}`;
      assertEquals(await canI(host, as, ["create", "mutatingwebhookconfigurations"]), false);
      assertEquals(
        await canI(host, as, ["patch", `mutatingwebhookconfigurations/${release}`]),
        true,
      );
      assertEquals(await canI(host, as, ["patch", "mutatingwebhookconfigurations/other"]), false);
      assertEquals(await canI(host, as, ["get", "secrets/other", `-n=${namespace}`]), false);
      assertEquals(await canI(host, as, ["get", "secrets", "-n=default"]), false);
    } finally {
      await run(helm, ["uninstall", release, ...helmArgs]);
    }
  },
);

e2eTest(
  "helm install: the hub runs with the chart's arguments and RBAC: reviews, Secrets, Leases, Clusters",
  async (env) => {
    const host = env.cluster("host");
    const { helm } = await chartTools();
    await using dir = await tempDir("mca-chart-e2e-");
    const release = uniqueName("mca-chart");
    const namespace = release;
    const hubName = `${release}-hub`;
    const helmArgs = [`--kubeconfig=${host.kubeconfigPath}`, `--namespace=${namespace}`];
    await runOk(helm, [
      "install",
      release,
      CHART_DIR,
      ...helmArgs,
      "--create-namespace",
      "--set=webhook.enabled=false",
    ]);
    try {
      const manifests = parseManifests(
        await runOk(helm, ["get", "manifest", release, ...helmArgs]),
      );
      const kubeconfig = await serviceAccountKubeconfig(host, namespace, hubName, dir);
      const port = freePort();
      // What the Deployment's downward API gives each replica.
      const hub = await startMca([
        ...argsOf(manifests, "hub", { "--listen": port, "--peer-listen": freePort() }),
        `--kubeconfig=${kubeconfig}`,
      ], {
        dir: dir.path,
        name: "hub",
        env: { POD_NAMESPACE: namespace, POD_NAME: "hub-0", POD_IP: "127.0.0.1" },
      });
      try {
        // Ready means: CA Secret created, agent token Secrets listed and watched, Lease applied.
        const caPem = await waitFor(async () => {
          const ca = await secretCa(host, namespace, "mca-hub-ca");
          return (await httpsGet(port, "/readyz", { caPem: ca })).status === 200 && ca;
        }, { timeoutMs: 30_000, description: "the hub to be ready" }).catch(async (error) => {
          throw new Error(`${error.message}\n${await hub.tail()}`);
        });
        const lease = await host.client.get<{ metadata: { labels: Record<string, string> } }>(
          `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases/mca-hub-hub-0`,
        );
        assertEquals(lease.metadata.labels["mca.k8s.io/hub-replica"], "true");
        // The aggregated entrance: the hub read the front-proxy settings in kube-system and set
        // the chart's APIService's caBundle to its CA.
        await waitFor(async () => {
          const apiService = await host.client.get<{ spec: { caBundle?: string } }>(
            "/apis/apiregistration.k8s.io/v1/apiservices/v1alpha1.proxy.mca.k8s.io",
          );
          return apiService.spec.caBundle === btoa(caPem) &&
            (await hub.tail(500)).includes("front-proxy settings read");
        }, { timeoutMs: 30_000, description: "the hub to set the APIService's caBundle" })
          .catch(async (error) => {
            throw new Error(`${error.message}\n${await hub.tail()}`);
          });

        // Two callers; the host lets only "reader" reach the member, through clusters/proxy.
        const cluster = uniqueName("east");
        const tokens: Record<string, string> = {};
        for (const name of ["outsider", "reader"]) {
          await kubectlOk(host, ["create", "serviceaccount", name, `--namespace=${namespace}`]);
          tokens[name] = (await kubectlOk(host, ["create", "token", name, `-n=${namespace}`]))
            .trim();
        }
        await kubectlOk(host, [
          "create",
          "clusterrole",
          `${release}-reach`,
          "--verb=get",
          "--resource=clusters.mca.k8s.io/proxy",
          `--resource-name=${cluster}`,
        ]);
        await kubectlOk(host, [
          "create",
          "clusterrolebinding",
          `${release}-reach`,
          `--clusterrole=${release}-reach`,
          `--serviceaccount=${namespace}:reader`,
        ]);
        const get = (token: string) => httpsGet(port, `/clusters/${cluster}/api`, { caPem, token });

        // The outsider is refused by name: TokenReview and SubjectAccessReview both ran.
        const denied = await get(tokens.outsider!);
        assertEquals(denied.status, 403, denied.body);
        assertStringIncludes(
          JSON.parse(denied.body).message,
          `user "system:serviceaccount:${namespace}:outsider" cannot get clusters/proxy "${cluster}"`,
        );
        // The reader gets through to the search for a replica holding the member's agents
        // (Leases listed): none has any.
        const allowed = await get(tokens.reader!);
        assertEquals(allowed.status, 503, allowed.body);
        assertStringIncludes(JSON.parse(allowed.body).message, "has no connected agent");
      } finally {
        await hub.stop();
        await kubectl(host, ["delete", "clusterrole,clusterrolebinding", `${release}-reach`]);
      }
      // A stopping replica removes its own Lease.
      const leases = await host.client.list(
        `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`,
      );
      assertEquals(leases.items, []);

      const as = `system:serviceaccount:${namespace}:${hubName}`;
      const can = (args: string[]) => canI(host, as, args);
      assert(await can(["get", "clusters.mca.k8s.io/east"]));
      assert(await can(["patch", "clusters.mca.k8s.io/east", "--subresource=status"]));
      assertEquals(await can(["update", "clusters.mca.k8s.io/east"]), false);
      assertEquals(await can(["delete", "clusters.mca.k8s.io/east"]), false);
      assert(await can(["create", "tokenreviews.authentication.k8s.io"]));
      assert(await can(["create", "subjectaccessreviews.authorization.k8s.io"]));
      assertEquals(await can(["get", "secrets", "-n=default"]), false);
      // Token rotation and join tokens update Secrets in the hub's namespace, and only there.
      assert(await can(["update", `secrets/mca-agent-east`, `-n=${namespace}`]));
      assertEquals(await can(["update", "secrets", "-n=default"]), false);
      assert(await can(["patch", "apiservices/v1alpha1.proxy.mca.k8s.io"]));
      assertEquals(await can(["patch", "apiservices/v1.apps"]), false);
      const authConfig = "configmaps/extension-apiserver-authentication";
      assert(await can(["watch", authConfig, "-n=kube-system"]));
      assertEquals(await can(["get", "configmaps/kube-proxy", "-n=kube-system"]), false);
    } finally {
      await run(helm, ["uninstall", release, ...helmArgs]);
    }
  },
);

e2eTest(
  "helm install with a wrong value is refused before anything reaches the cluster",
  async (env) => {
    const host = env.cluster("host");
    const { helm } = await chartTools();
    await using dir = await tempDir("mca-chart-e2e-");
    const release = uniqueName("mca-chart");
    const values = await dir.write(
      "values.json",
      JSON.stringify({ webhook: { failurePolicy: "Sometimes" } }),
    );
    const helmArgs = [`--kubeconfig=${host.kubeconfigPath}`, `--namespace=${release}`];
    const result = await run(helm, [
      "install",
      release,
      CHART_DIR,
      ...helmArgs,
      "--create-namespace",
      `--values=${values}`,
    ]);
    assert(result.code !== 0, "helm installed a chart with a wrong value");
    assertStringIncludes(result.stderr, "/webhook/failurePolicy");
    // No namespace, no release record, no cluster-scoped object.
    assertEquals((await kubectl(host, ["get", "namespace", release])).code, 1);
    assertEquals((await run(helm, ["status", release, ...helmArgs])).code, 1);
    assertEquals(
      (await kubectl(host, ["get", "mutatingwebhookconfiguration", `${release}-webhook`])).code,
      1,
    );
  },
);
