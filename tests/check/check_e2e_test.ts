/**
 * `mca check` against real API servers, with the webhook and the hub as real processes the way
 * the other end-to-end tests start them (the webhook registered by URL: these clusters have no
 * nodes, so no Service can reach a process on loopback). A healthy setup passes; each broken one
 * fails with a line that names the fault.
 *
 * The clusters are this file's own (host and east): the check judges every Cluster object and
 * every webhook configuration a dry-run pod meets, so other tests' leftovers must not be there.
 */
import { assert, assertEquals, assertStringIncludes } from "../_utils/assert.ts";
import { kubectl, kubectlOk, uniqueName } from "../_utils/e2e.ts";
import { startHubFixture } from "../_utils/hub_fixture.ts";
import { mcaCommand, startMca } from "../_utils/mca_process.ts";
import { runCommand } from "../_utils/run_command.ts";
import { tempDir } from "../_utils/temp_dir.ts";
import { waitFor } from "../../src/common/mod.ts";
import { renderKubeconfig } from "../../src/kube/mod.ts";
import { freePort, startTestEnv, type TestCluster } from "../../src/testenv/mod.ts";
import type { CheckResult, CheckSummary } from "../../src/check/mod.ts";

const MWC = "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations";

type Report = { success: boolean; summary: CheckSummary; checks: CheckResult[] };

/** Runs `mca check` with JSON output; returns the exit code and the parsed report. */
async function check(args: string[]): Promise<{ code: number; report: Report; stderr: string }> {
  const [command, ...rest] = mcaCommand();
  const result = await runCommand(command!, [...rest, "check", "--output=json", ...args]);
  let report: Report;
  try {
    report = JSON.parse(result.stdout) as Report;
  } catch {
    throw new Error(`mca check printed no report (code ${result.code}):\n${result.stderr}`);
  }
  return { code: result.code, report, stderr: result.stderr };
}

function failed(report: Report): CheckResult[] {
  return report.checks.filter((c) => c.status === "fail");
}

function find(report: Report, title: string): CheckResult {
  const found = report.checks.find((c) => c.title.includes(title));
  if (!found) throw new Error(`No check "${title}" in ${JSON.stringify(report.checks, null, 2)}`);
  return found;
}

/** Starts `mca webhook` registered by URL and waits until its configuration trusts it. */
async function startWebhook(host: TestCluster, dir: string, namespace: string, name: string) {
  const port = freePort();
  const process = await startMca([
    "webhook",
    `--kubeconfig=${host.kubeconfigPath}`,
    `--namespace=${namespace}`,
    `--configuration-name=${name}`,
    `--listen=127.0.0.1:${port}`,
    `--url=https://127.0.0.1:${port}`,
    "--image=registry.example/mca:e2e",
    "--log-format=text",
  ], { dir, name: "webhook" });
  await waitFor(async () => {
    const config = await host.client.get<{ webhooks: { clientConfig: { caBundle?: string } }[] }>(
      `${MWC}/${name}`,
    ).catch(() => undefined);
    const bundle = config?.webhooks[0]?.clientConfig.caBundle;
    if (!bundle) return false;
    const client = Deno.createHttpClient({ caCerts: [atob(bundle)] });
    try {
      const response = await fetch(`https://127.0.0.1:${port}/readyz`, { client });
      await response.body?.cancel();
      return response.ok;
    } catch {
      return false;
    } finally {
      client.close();
    }
  }, { timeoutMs: 30_000, description: "the webhook to be ready" });
  return process;
}

Deno.test({
  name: "mca check passes on a healthy setup and names the fault of broken ones",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    await using dir = await tempDir();
    const env = await startTestEnv({ clusters: ["host", "east"] });
    const host = env.cluster("host");
    const fixture = await startHubFixture(env, dir.path);
    const configuration = uniqueName("mca-check");
    const webhook = await startWebhook(host, dir.path, fixture.namespace, configuration);
    try {
      // The dry-run pod goes to "default"; without a controller manager its ServiceAccount is ours to make.
      await kubectl(host, ["create", "serviceaccount", "default", "-n", "default"]);
      const east = await fixture.registerMember(env.cluster("east"), { name: "east" });
      await fixture.connectAgent(east);
      const base = [
        `--kubeconfig=${host.kubeconfigPath}`,
        `--namespace=${fixture.namespace}`,
        `--hub=${fixture.hub.url}`,
        `--webhook-configuration=${configuration}`,
      ];

      await t.step("a healthy setup passes every check", async () => {
        const { code, report, stderr } = await waitFor(async () => {
          // The hub writes the Cluster's status just after the agent connects.
          const run = await check(base);
          return run.code === 0 ? run : undefined;
        }, { timeoutMs: 20_000, description: "mca check to pass" }).catch(async (error) => {
          const run = await check(base);
          throw new Error(`${error.message}: ${JSON.stringify(failed(run.report), null, 2)}`);
        });
        assertEquals(code, 0, stderr);
        assertEquals(report.summary.fail, 0);
        assertEquals(report.summary.warn, 0, JSON.stringify(report.checks, null, 2));
        // The one skip: this hub runs as a process, with no APIService for its aggregated entrance.
        assertEquals(report.summary.skip, 1, JSON.stringify(report.checks, null, 2));
        assertStringIncludes(
          find(report, "the aggregated entrance").detail!,
          "aggregatedApi is off",
        );
        for (
          const title of [
            "the API server is reachable",
            `MutatingWebhookConfiguration "${configuration}" exists`,
            "the caBundle verifies the certificate the webhook serves",
            "the API server calls the webhook",
            "the hub is ready",
            "the hub's certificate chains to the CA",
            'cluster "east" is connected',
            "you may get clusters/proxy",
            "you may create clusters/proxy",
            "the hub CA is valid",
          ]
        ) assertEquals(find(report, title).status, "ok", title);
        // Text output on a pipe: ASCII marks, one line per check.
        const [command, ...rest] = mcaCommand();
        const text = await runCommand(command!, [...rest, "check", ...base]);
        assertEquals(text.code, 0, text.stderr);
        assertStringIncludes(text.stdout, '[ok]   cluster "east" is connected: 1 agent(s)');
        assertStringIncludes(text.stdout, "Status check results: passed");
      });

      await t.step("a caBundle that does not hold the webhook CA fails", async () => {
        // A copy of the live configuration with the hub's CA as its caBundle; it applies to no
        // namespace that exists and ignores failures, so it changes no admission.
        const live = await host.client.get<Record<string, unknown> & { webhooks: object[] }>(
          `${MWC}/${configuration}`,
        );
        const copy = uniqueName("mca-check-wrong");
        await host.client.create(MWC, {
          apiVersion: "admissionregistration.k8s.io/v1",
          kind: "MutatingWebhookConfiguration",
          metadata: { name: copy },
          webhooks: live.webhooks.map((w) => ({
            ...w,
            failurePolicy: "Ignore",
            namespaceSelector: {
              matchLabels: { "kubernetes.io/metadata.name": uniqueName("nowhere") },
            },
            clientConfig: {
              ...(w as { clientConfig: object }).clientConfig,
              caBundle: btoa(fixture.hub.caPem),
            },
          })),
        });
        const { code, report } = await check([...base, `--webhook-configuration=${copy}`]);
        assertEquals(code, 1);
        const holds = find(report, "the caBundle holds the CA");
        assertEquals(holds.status, "fail");
        assertStringIncludes(holds.detail!, "does not hold that CA");
        const verifies = find(report, "the caBundle verifies the certificate the webhook serves");
        assertEquals(verifies.status, "fail");
        assertStringIncludes(verifies.detail!, "does not verify");
        assert(verifies.hint);
        await host.client.delete(`${MWC}/${copy}`);
      });

      await t.step("a Cluster without an agent fails, by name", async () => {
        const lonely = await fixture.registerMember(env.cluster("east"), { name: "lonely" });
        const { code, report } = await check(base);
        assertEquals(code, 1);
        assertEquals(failed(report).map((c) => c.title), [`cluster "${lonely}" is connected`]);
        assertStringIncludes(failed(report)[0]!.detail!, "no agent has ever connected");
        assertEquals(find(report, 'cluster "east" is connected').status, "ok");
        await kubectlOk(host, ["delete", "clusters.mca.k8s.io", lonely]);
      });

      await t.step(
        "a caller without rights on clusters/proxy fails the access checks",
        async () => {
          const ns = uniqueName("callers");
          await kubectlOk(host, ["create", "namespace", ns]);
          await kubectlOk(host, ["create", "serviceaccount", "nobody", "-n", ns]);
          const token = (await kubectlOk(host, ["create", "token", "nobody", "-n", ns])).trim();
          const kubeconfig = `${dir.path}/nobody.kubeconfig`;
          await Deno.writeTextFile(
            kubeconfig,
            renderKubeconfig([{
              name: "host",
              server: host.url,
              caPem: host.caPem,
              user: { token },
            }]),
          );
          const { code, report } = await check([...base.slice(1), `--kubeconfig=${kubeconfig}`]);
          assertEquals(code, 1);
          assertEquals(failed(report).map((c) => c.title), [
            "you may get clusters/proxy (mca.k8s.io)",
            "you may create clusters/proxy (mca.k8s.io)",
          ]);
          assertStringIncludes(failed(report)[0]!.hint!, "--resource=clusters.mca.k8s.io/proxy");
        },
      );

      await t.step(
        "an APIService the host cannot reach fails, and adds the access checks of its group",
        async () => {
          const path = "/apis/apiregistration.k8s.io/v1/apiservices";
          await host.client.create(path, {
            apiVersion: "apiregistration.k8s.io/v1",
            kind: "APIService",
            metadata: { name: "v1alpha1.proxy.mca.k8s.io" },
            spec: {
              group: "proxy.mca.k8s.io",
              version: "v1alpha1",
              groupPriorityMinimum: 1000,
              versionPriority: 15,
              service: { namespace: fixture.namespace, name: uniqueName("no-hub"), port: 443 },
              caBundle: btoa(fixture.hub.caPem),
            },
          });
          try {
            const { code, report } = await waitFor(async () => {
              // The aggregator writes Available=False once it has looked for the Service.
              const run = await check(base);
              return run.code === 1 ? run : undefined;
            }, { timeoutMs: 20_000, description: "mca check to see the unavailable APIService" });
            assertEquals(code, 1);
            assertEquals(failed(report).map((c) => c.title), [
              "the aggregated entrance (APIService v1alpha1.proxy.mca.k8s.io) is Available",
            ]);
            assertStringIncludes(failed(report)[0]!.detail!, "ServiceNotFound");
            // The admin may use both entrances.
            assertEquals(
              find(report, "you may get clusters/proxy (proxy.mca.k8s.io)").status,
              "ok",
            );
          } finally {
            await host.client.delete(`${path}/v1alpha1.proxy.mca.k8s.io`);
          }
        },
      );
    } finally {
      await webhook.stop();
      await fixture.stop();
      await env.stop();
    }
  },
});
