/**
 * The chart's monitoring objects: the PrometheusRule's alerts checked (`promtool check rules`,
 * every lint) and unit-tested (`promtool test rules`) on series shaped as mca's /metrics and a
 * ServiceMonitor's target labels give them; the dashboard's queries parsed by promtool too; and
 * every metric either names is one mca really exports.
 */
import { stringify } from "yaml";
import { assert, assertEquals, assertStringIncludes } from "../_utils/assert.ts";
import { tempDir } from "../_utils/temp_dir.ts";
import { createAgentMetrics } from "../../src/agent/mod.ts";
import { AgentSessions, createHubHandler } from "../../src/hub/mod.ts";
import { silentLogger } from "../../src/log/mod.ts";
import { createMetricsRegistry, registerProcessMetrics } from "../../src/metrics/mod.ts";
import { createWebhookApp } from "../../src/webhook/mod.ts";
import { memberErrorsCase, reconnectStormCase, withoutAgentsCase } from "./_alert_cases.ts";
import {
  CHART_DIR,
  chartTools,
  helmTemplate,
  type Manifest,
  parseManifests,
  run,
} from "./_chart.ts";
import { NO_TOKENS } from "../_utils/token_store.ts";

type RuleGroup = { name: string; rules: { alert?: string; expr: string }[] };

const MONITORING = {
  monitoring: {
    serviceMonitor: { enabled: true },
    prometheusRule: { enabled: true },
    dashboard: { enabled: true },
  },
};

async function renderedMonitoring(values: Record<string, unknown> = MONITORING) {
  return parseManifests(await helmTemplate(values));
}

function ruleGroups(manifests: Manifest[]): RuleGroup[] {
  const rule = manifests.find((m) => m.kind === "PrometheusRule") as
    | { spec: { groups: RuleGroup[] } }
    | undefined;
  assert(rule, "the chart renders a PrometheusRule");
  return rule.spec.groups;
}

/** The dashboard's PromQL, with Grafana's variables replaced by what Grafana would put there. */
function dashboardQueries(manifests: Manifest[]): string[] {
  const configMap = manifests.find((m) => m.kind === "ConfigMap") as unknown as {
    data: Record<string, string>;
  };
  const dashboard = JSON.parse(configMap.data["mca.json"]!) as {
    panels: { targets?: { expr: string }[] }[];
  };
  return dashboard.panels.flatMap((panel) => panel.targets ?? []).map((target) =>
    target.expr.replaceAll("$__rate_interval", "2m").replaceAll("$cluster", ".*")
  );
}

/** The metric families mca's hub, agent, webhook and every process render (`# TYPE` lines). */
function exportedMetrics(): Set<string> {
  const registry = createMetricsRegistry();
  registerProcessMetrics(registry);
  createAgentMetrics(registry, () => 0);
  createHubHandler({
    sessions: new AgentSessions(),
    access: {
      authenticate: () => Promise.reject(),
      authorize: () => Promise.reject(),
      mayImpersonate: () => Promise.reject(),
      checkPath: () => Promise.reject(),
    },
    tokens: NO_TOKENS,
    onAgentChange() {},
    notReady: () => undefined,
    metrics: registry,
    logger: silentLogger,
  });
  createWebhookApp({ metrics: registry });
  return new Set(
    [...registry.render().matchAll(/^# TYPE (\S+) (\S+)$/gm)].flatMap(([, name, type]) =>
      type === "histogram" ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : [name!]
    ),
  );
}

/** Metric names in a PromQL expression (identifiers that are no function, keyword or label). */
function metricNames(expr: string): string[] {
  const withoutStrings = expr.replaceAll(/"[^"]*"/g, '""').replaceAll(/\{[^}]*\}/g, "{}");
  return [...withoutStrings.matchAll(/\b((?:mca|process)_[a-z_]+)\b/g)].map((m) => m[1]!);
}

Deno.test("the alerts and the dashboard query only metrics that mca exports", async () => {
  const manifests = await renderedMonitoring();
  const exported = exportedMetrics();
  const used = [
    ...ruleGroups(manifests).flatMap((group) => group.rules.map((rule) => rule.expr)),
    ...dashboardQueries(manifests),
  ].flatMap(metricNames);
  assert(used.length > 20, `found only ${used.length} metric uses`);
  assertEquals([...new Set(used.filter((name) => !exported.has(name)))], []);
});

Deno.test("promtool check rules accepts the alerts and the dashboard's queries (every lint, fatal)", async () => {
  const { promtool } = await chartTools();
  const manifests = await renderedMonitoring();
  await using dir = await tempDir("mca-rules-");
  const dashboardRules = {
    groups: [{
      name: "dashboard",
      rules: dashboardQueries(manifests).map((expr, i) => ({
        record: `mca:dashboard_query_${i}:check`,
        expr,
      })),
    }],
  };
  const files = [
    await dir.write("alerts.yaml", stringify({ groups: ruleGroups(manifests) })),
    await dir.write("dashboard.yaml", stringify(dashboardRules)),
  ];
  const result = await run(promtool, ["check", "rules", "--lint=all", "--lint-fatal", ...files]);
  assertEquals(result.code, 0, result.stdout + result.stderr);
  assertStringIncludes(result.stdout, "SUCCESS: 4 rules found");
  // Can fail: a broken expression is refused.
  const broken = await dir.write(
    "broken.yaml",
    stringify({
      groups: [{ name: "x", rules: [{ alert: "X", expr: "sum by (cluster (mca_hub_agents)" }] }],
    }),
  );
  const refused = await run(promtool, ["check", "rules", broken]);
  assertEquals(refused.code, 1, refused.stdout);
});

Deno.test("promtool test rules: each alert fires on the failure it names and stays silent otherwise", async () => {
  const { promtool } = await chartTools();
  const manifests = await renderedMonitoring();
  await using dir = await tempDir("mca-rules-test-");
  const rules = await dir.write("alerts.yaml", stringify({ groups: ruleGroups(manifests) }));
  const tests = {
    rule_files: [rules],
    evaluation_interval: "1m",
    tests: [withoutAgentsCase(), reconnectStormCase(), memberErrorsCase()],
  };
  const testFile = await dir.write("alerts_test.yaml", stringify(tests));
  const result = await run(promtool, ["test", "rules", testFile]);
  assertEquals(result.code, 0, result.stdout + result.stderr);
  assertStringIncludes(result.stdout, "SUCCESS");
});

Deno.test("the monitors are off by default, and on they scrape each component as it serves /metrics", async () => {
  const off = await renderedMonitoring({});
  const monitoringKinds = ["ServiceMonitor", "PrometheusRule", "PodMonitor"];
  assertEquals(off.filter((m) => monitoringKinds.includes(m.kind)), []);
  assertEquals(off.some((m) => m.metadata.name.endsWith("-metrics-reader")), false);
  const on = await renderedMonitoring();
  type Endpoint = {
    port: string;
    scheme: string;
    authorization?: { credentials: { name: string; key: string } };
    tlsConfig: { serverName: string; ca: { secret: { name: string; key: string } } };
  };
  const endpoint = (name: string) =>
    (on.find((m) => m.kind === "ServiceMonitor" && m.metadata.name === name) as unknown as {
      spec: { endpoints: Endpoint[] };
    }).spec.endpoints[0]!;
  const webhook = endpoint("mca-webhook");
  assertEquals(webhook.scheme, "https");
  assertEquals(webhook.authorization, undefined);
  assertEquals(webhook.tlsConfig.serverName, "mca-webhook.mca-system.svc");
  assertEquals(webhook.tlsConfig.ca.secret, { name: "mca-webhook-ca", key: "ca.crt" });
  const hub = endpoint("mca-hub");
  assertEquals(hub.tlsConfig.ca.secret, { name: "mca-hub-ca", key: "ca.crt" });
  assertEquals(hub.authorization?.credentials, { name: "mca-metrics-reader-token", key: "token" });
  const role = on.find((m) => m.kind === "ClusterRole" && m.metadata.name === "mca-metrics-reader");
  assertEquals((role as unknown as { rules: unknown }).rules, [
    { nonResourceURLs: ["/metrics"], verbs: ["get"] },
  ]);
  const own = await renderedMonitoring({
    monitoring: { serviceMonitor: { enabled: true }, scrapeToken: { existingSecret: "mine" } },
  });
  assertEquals(own.some((m) => m.metadata.name.startsWith("mca-metrics-reader")), false);
  const hubWithOwn = own.find((m) => m.kind === "ServiceMonitor" && m.metadata.name === "mca-hub");
  assertStringIncludes(JSON.stringify(hubWithOwn), '"credentials":{"name":"mine","key":"token"}');
  const dashboard = on.find((m) => m.kind === "ConfigMap");
  assertEquals(dashboard?.metadata.labels?.grafana_dashboard, "1");
  assertEquals(
    JSON.parse((dashboard as unknown as { data: Record<string, string> }).data["mca.json"]!),
    JSON.parse(await Deno.readTextFile(`${CHART_DIR}/dashboards/mca.json`)),
  );
});
