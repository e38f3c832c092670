/**
 * The monitors on real pods: charts/mca upgraded with its ServiceMonitors, PrometheusRule and
 * dashboard on a host whose API server has the Prometheus Operator's CRDs (so it validates
 * them), `mca agent install --pod-monitor` on east; then each /metrics is scraped the way the
 * monitors describe it (their port, scheme, path, CA, server name and bearer token, read back
 * from the API server) and holds the series the alerts use.
 */
import https from "node:https";
import { assert, assertEquals, assertStringIncludes } from "../_utils/assert.ts";
import { e2eTest, kubectlOk } from "../_utils/e2e.ts";
import { hostAdminKubeconfig, installAgent, installMcaChart } from "../_utils/mca_chart.ts";
import { runMca } from "../_utils/mca_process.ts";
import { runCommand } from "../_utils/run_command.ts";
import { type TempDir, tempDir } from "../_utils/temp_dir.ts";
import { waitFor } from "../../src/common/mod.ts";
import {
  MCA_CHART_DIR,
  MCA_NAMESPACE,
  type TestCluster,
  type TestEnv,
} from "../../src/testenv/mod.ts";
import { applyMonitoringCrds, chartTools, runOk } from "./_chart.ts";

type Endpoint = {
  port: string;
  scheme?: string;
  path?: string;
  authorization?: { type: string; credentials: { name: string; key: string } };
  tlsConfig?: { serverName: string; ca: { secret: { name: string; key: string } } };
};

async function getJson<T>(cluster: TestCluster, args: string[]): Promise<T> {
  return JSON.parse(await kubectlOk(cluster, ["get", ...args, "-o", "json"])) as T;
}

async function secretValue(cluster: TestCluster, namespace: string, name: string, key: string) {
  const secret = await getJson<{ data?: Record<string, string> }>(cluster, [
    "secret",
    name,
    "-n",
    namespace,
  ]);
  const value = secret.data?.[key];
  return value ? atob(value) : undefined;
}

/** GET a pod's /metrics as Prometheus would: the target's address, TLS and credentials. */
function scrape(
  url: URL,
  options: { caPem?: string; serverName?: string; token?: string | undefined },
) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const request = https.request({
      protocol: url.protocol,
      host: url.hostname,
      port: url.port,
      path: url.pathname,
      ...(options.caPem ? { ca: options.caPem } : {}),
      ...(options.serverName ? { servername: options.serverName } : {}),
      headers: options.token ? { authorization: `Bearer ${options.token}` } : {},
      timeout: 10_000,
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

/** The ready addresses and the port number behind a Service's named port (its EndpointSlices). */
async function serviceTargets(
  cluster: TestCluster,
  namespace: string,
  service: string,
  port: string,
) {
  const slices = await getJson<{
    items: {
      ports: { name: string; port: number }[];
      endpoints: { addresses: string[]; conditions: { ready?: boolean } }[];
    }[];
  }>(cluster, ["endpointslices", "-n", namespace, "-l", `kubernetes.io/service-name=${service}`]);
  return slices.items.flatMap((slice) => {
    const number = slice.ports.find((p) => p.name === port)?.port;
    return slice.endpoints.filter((e) => e.conditions.ready !== false).flatMap((e) =>
      e.addresses.map((address) => `${address}:${number}`)
    );
  });
}

/** The value of one series in a text exposition, or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** Scrapes what a ServiceMonitor describes on every pod behind its Service. */
async function scrapeServiceMonitor(host: TestCluster, name: string, service: string) {
  const monitor = await getJson<{ spec: { endpoints: Endpoint[] } }>(host, [
    "servicemonitors.monitoring.coreos.com",
    name,
    "-n",
    MCA_NAMESPACE,
  ]);
  const endpoint = monitor.spec.endpoints[0]!;
  assertEquals(endpoint.scheme, "https");
  const tls = endpoint.tlsConfig!;
  const caPem = await secretValue(host, MCA_NAMESPACE, tls.ca.secret.name, tls.ca.secret.key);
  const credentials = endpoint.authorization?.credentials;
  const token = credentials
    ? await waitFor(
      () => secretValue(host, MCA_NAMESPACE, credentials.name, credentials.key),
      { timeoutMs: 60_000, description: `the token controller fills "${credentials.name}"` },
    )
    : undefined;
  const targets = await waitFor(async () => {
    const found = await serviceTargets(host, MCA_NAMESPACE, service, endpoint.port);
    return found.length > 0 && found;
  }, { timeoutMs: 60_000, description: `endpoints of ${service}` });
  const scrapes = [];
  for (const target of targets) {
    const url = new URL(`https://${target}${endpoint.path ?? "/metrics"}`);
    scrapes.push({
      url,
      withToken: await scrape(url, { caPem: caPem!, serverName: tls.serverName, token }),
      withoutToken: await scrape(url, { caPem: caPem!, serverName: tls.serverName }),
    });
  }
  return scrapes;
}

/** `helm upgrade` with every monitor on; the API server validates them against the CRDs. */
async function upgradeWithMonitors(host: TestCluster) {
  const { helm } = await chartTools();
  await runOk(helm, [
    "upgrade",
    "mca",
    MCA_CHART_DIR,
    `--kubeconfig=${host.kubeconfigPath}`,
    `--namespace=${MCA_NAMESPACE}`,
    "--reuse-values",
    "--set=monitoring.serviceMonitor.enabled=true",
    "--set=monitoring.prometheusRule.enabled=true",
    "--set=monitoring.dashboard.enabled=true",
    "--wait",
    "--timeout=3m",
  ]);
  const rules = await getJson<{ spec: { groups: { rules: { alert: string }[] }[] } }>(host, [
    "prometheusrules.monitoring.coreos.com",
    "mca",
    "-n",
    MCA_NAMESPACE,
  ]);
  assertEquals(rules.spec.groups[0]!.rules.map((r) => r.alert), [
    "McaClusterWithoutAgents",
    "McaAgentReconnectStorm",
    "McaAgentPodReconnectStorm",
    "McaMemberErrors",
  ]);
  // Can fail: the CRDs' schemas refuse a wrong field.
  const refused = await runCommand("kubectl", [
    `--kubeconfig=${host.kubeconfigPath}`,
    "apply",
    "--dry-run=server",
    "--validate=strict",
    "-f",
    "-",
  ], {
    stdin: JSON.stringify({
      apiVersion: "monitoring.coreos.com/v1",
      kind: "ServiceMonitor",
      metadata: { name: "wrong", namespace: MCA_NAMESPACE },
      spec: { endpoints: [{ port: "https", scheme: "gopher" }], selector: {} },
    }),
  });
  assert(refused.code !== 0, "a ServiceMonitor with scheme gopher was accepted");
}

/** One request to east through the hub (so that the request series exist), as host's admin. */
async function requestEastThroughHub(env: TestEnv, hubUrl: string, dir: TempDir) {
  const host = env.cluster("host");
  const kubeconfig = await hostAdminKubeconfig(env, dir.path);
  const caPem = await secretValue(host, MCA_NAMESPACE, "mca-hub-ca", "ca.crt");
  const caFile = await dir.write("hub-ca.crt", caPem!);
  const members = `${dir.path}/members.kubeconfig`;
  const written = await runMca([
    "kubeconfig",
    `--hub=${hubUrl}`,
    `--hub-ca-file=${caFile}`,
    "--clusters=east",
    `--kubeconfig=${kubeconfig}`,
    "-o",
    members,
  ]);
  assertEquals(written.code, 0, written.stderr);
  await kubectlOk(members, ["--context=east", "get", "namespaces", "-o", "name"]);
  return kubeconfig;
}

/** The hub's series the alerts use, summed over its replicas, as its ServiceMonitor scrapes. */
async function assertHubSeries(host: TestCluster) {
  const hubScrapes = await scrapeServiceMonitor(host, "mca-hub", "mca-hub");
  assert(hubScrapes.length >= 1, "hub pods behind the Service");
  let agents = 0;
  let connections = 0;
  let requests = 0;
  for (const { url, withToken, withoutToken } of hubScrapes) {
    assertEquals(withoutToken.status, 401, `${url} without the ServiceMonitor's token`);
    assertEquals(withToken.status, 200, `${url}: ${withToken.body}`);
    assertStringIncludes(withToken.body, 'mca_hub_agents{cluster="east"}');
    agents += sample(withToken.body, 'mca_hub_agents{cluster="east"}') ?? 0;
    connections += sample(withToken.body, 'mca_hub_agent_connections_total{cluster="east"}') ?? 0;
    requests += sample(withToken.body, 'mca_hub_requests_total{cluster="east",code="200"}') ?? 0;
    assertStringIncludes(withToken.body, "# TYPE mca_hub_request_duration_seconds histogram");
    assertStringIncludes(withToken.body, "mca_build_info{");
  }
  assert(agents >= 1, `east's agents are counted by the hub replicas: ${agents}`);
  assert(connections >= agents, `accepted agent sessions: ${connections}`);
  assert(requests >= 1, `requests to east counted: ${requests}`);
  const webhookScrapes = await scrapeServiceMonitor(host, "mca-webhook", "mca-webhook");
  for (const { url, withoutToken } of webhookScrapes) {
    assertEquals(withoutToken.status, 200, `${url} needs no token`);
    assertStringIncludes(withoutToken.body, "# TYPE mca_webhook_admissions_total counter");
  }
}

/** Scrapes the agent pods the PodMonitor selects, on the port and path it names. */
async function assertAgentSeries(east: TestCluster) {
  const podMonitor = await getJson<{
    spec: {
      selector: { matchLabels: Record<string, string> };
      podMetricsEndpoints: { port: string; path: string }[];
    };
  }>(east, ["podmonitors.monitoring.coreos.com", "mca-agent", "-n", "mca-agent"]);
  const { port, path } = podMonitor.spec.podMetricsEndpoints[0]!;
  const selector = Object.entries(podMonitor.spec.selector.matchLabels)
    .map(([key, value]) => `${key}=${value}`).join(",");
  const pods = await getJson<{
    items: {
      status: { phase: string; podIP?: string };
      spec: { containers: { ports?: { name: string; containerPort: number }[] }[] };
    }[];
  }>(east, ["pods", "-n", "mca-agent", "-l", selector]);
  const running = pods.items.filter((pod) => pod.status.phase === "Running" && pod.status.podIP);
  assert(running.length >= 1, "agent pods run on east");
  let up = 0;
  let served = 0;
  for (const pod of running) {
    const number = pod.spec.containers[0]!.ports!.find((p) => p.name === port)!.containerPort;
    const response = await fetch(`http://${pod.status.podIP}:${number}${path}`);
    const text = await response.text();
    assertEquals(response.status, 200);
    up += sample(text, "mca_agent_session_up") ?? 0;
    assertStringIncludes(text, "# TYPE mca_agent_reconnects_total counter");
    assertStringIncludes(text, 'mca_agent_bytes_total{direction="received"}');
    served += sample(text, 'mca_agent_request_duration_seconds_count{code="200"}') ?? 0;
  }
  assertEquals(up, running.length, "every agent pod reports its session up");
  assert(served >= 1, `the agents timed the request through the hub: ${served}`);
}

e2eTest(
  "the chart's monitors validate on a real API server, and scraping hub, webhook and agent pods as they describe finds the series the alerts use",
  async (env) => {
    const host = env.cluster("host");
    const east = env.cluster("east");
    const { hubUrl } = await installMcaChart(env);
    await installAgent(env, "east");
    await applyMonitoringCrds(host);
    await applyMonitoringCrds(east);
    await upgradeWithMonitors(host);
    await using dir = await tempDir("mca-monitoring-");
    const kubeconfig = await requestEastThroughHub(env, hubUrl, dir);
    await assertHubSeries(host);
    // `mca agent install --pod-monitor` adds the PodMonitor to the running agent's objects.
    const installed = await runMca([
      "agent",
      "install",
      `--hub=${hubUrl}`,
      "--cluster=east",
      `--kubeconfig=${kubeconfig}`,
      `--member-kubeconfig=${east.kubeconfigPath}`,
      `--image=${env.images!.mca.ref}`,
      "--pod-monitor",
      "--wait=2m",
    ]);
    assertEquals(installed.code, 0, installed.stderr);
    await assertAgentSeries(east);
    // Uninstall knows the PodMonitor as one of the agent's objects (a dry run deletes nothing).
    const uninstall = await runMca([
      "agent",
      "uninstall",
      "--cluster=east",
      `--kubeconfig=${kubeconfig}`,
      `--member-kubeconfig=${east.kubeconfigPath}`,
      "--dry-run",
    ]);
    assertEquals(uninstall.code, 0, uninstall.stderr);
    assertStringIncludes(uninstall.stdout, "PodMonitor mca-agent/mca-agent on the member");
  },
  { nodes: true },
);
