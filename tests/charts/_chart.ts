/**
 * Running the chart tools against charts/mca: helm (lint, template, install) and kubeconform
 * with the generated Kubernetes schemas plus the Cluster CRD's.
 */
import { type CommandResult, runCommand } from "../_utils/run_command.ts";
import { kubectlOk } from "../_utils/e2e.ts";
import { parse, parseAllDocuments } from "yaml";
import {
  type ChartTools,
  crdKubeconformSchemas,
  type CustomResourceDefinition,
  findChartTools,
  KUBERNETES_VERSION,
  type TestCluster,
} from "../../src/testenv/mod.ts";

/** The chart under test. */
export const CHART_DIR = new URL("../../charts/mca", import.meta.url).pathname;
/** The member side as a chart (the objects of `mca agent manifest`). */
export const AGENT_CHART_DIR = new URL("../../charts/mca-agent", import.meta.url).pathname;
/** The CRD as the rest of the project applies it. */
export const DEPLOY_CRD = new URL("../../deploy/crds/clusters.mca.k8s.io.yaml", import.meta.url)
  .pathname;
/** The chart's copy of it. */
export const CHART_CRD = `${CHART_DIR}/crds/clusters.mca.k8s.io.yaml`;

/** A Kubernetes object from a rendered manifest. */
export type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
} & Record<string, unknown>;

/** Exit code and output of a tool run. */
export type ToolResult = CommandResult;

let tools: Promise<ChartTools> | undefined;

/** The built tools; fails with the message that says how to build them. */
export function chartTools(): Promise<ChartTools> {
  tools ??= findChartTools();
  return tools;
}

/** Runs a tool; never throws on a non-zero exit (the caller asserts). */
export async function run(
  command: string,
  args: string[],
  options: { stdin?: string } = {},
): Promise<ToolResult> {
  return await runCommand(command, args, options);
}

/** Runs a tool and fails with its output unless it succeeds; returns stdout. */
export async function runOk(
  command: string,
  args: string[],
  options: { stdin?: string } = {},
): Promise<string> {
  const result = await run(command, args, options);
  if (result.code !== 0) {
    throw new Error(
      `${command} ${args.join(" ")} failed (${result.code}):\n${result.stderr}${result.stdout}`,
    );
  }
  return result.stdout;
}

/** `helm template` of the chart with the given values (passed as a JSON values file). */
export async function helmTemplate(
  values: Record<string, unknown>,
  options: { release?: string; namespace?: string; includeCrds?: boolean; chart?: string } = {},
): Promise<string> {
  const { helm } = await chartTools();
  const valuesFile = await Deno.makeTempFile({ prefix: "mca-chart-values-", suffix: ".json" });
  try {
    await Deno.writeTextFile(valuesFile, JSON.stringify(values));
    return await runOk(helm, [
      "template",
      options.release ?? "mca",
      options.chart ?? CHART_DIR,
      `--namespace=${options.namespace ?? "mca-system"}`,
      `--kube-version=${KUBERNETES_VERSION}`,
      `--values=${valuesFile}`,
      ...(options.includeCrds ? ["--include-crds"] : []),
    ]);
  } finally {
    await Deno.remove(valuesFile);
  }
}

/** The objects of a multi-document manifest (empty documents skipped). */
export function parseManifests(text: string): Manifest[] {
  return parseAllDocuments(text).map((document) => document.toJS() as Manifest | null).filter((
    object,
  ): object is Manifest => object !== null);
}

/** One resource in kubeconform's JSON report. */
export interface KubeconformResource {
  filename: string;
  kind: string;
  name: string;
  version: string;
  status: string;
  msg: string;
}

/** kubeconform's JSON report. */
export interface KubeconformReport {
  resources: KubeconformResource[];
  summary: { valid: number; invalid: number; errors: number; skipped: number };
}

/**
 * Validates manifests with `kubeconform -strict` against the Kubernetes schemas of the tested
 * release and the schemas of the Cluster CRD and the monitoring.coreos.com CRDs; a missing
 * schema is an error, never a skip.
 */
export async function kubeconform(manifests: string): Promise<KubeconformReport> {
  const tools = await chartTools();
  const crdDir = await Deno.makeTempDir({ prefix: "mca-crd-schemas-" });
  try {
    for (const file of [CHART_CRD, ...tools.monitoringCrds]) {
      const crd = parse(await Deno.readTextFile(file)) as CustomResourceDefinition;
      for (const [name, schema] of crdKubeconformSchemas(crd, { strict: true })) {
        await Deno.writeTextFile(`${crdDir}/${name}`, JSON.stringify(schema));
      }
    }
    const result = await run(tools.kubeconform, [
      "-strict",
      "-summary",
      "-verbose",
      "-output=json",
      `-kubernetes-version=${KUBERNETES_VERSION.replace(/^v/, "")}`,
      `-schema-location=${tools.schemaLocation}`,
      `-schema-location=${crdDir}/{{ .ResourceKind }}{{ .KindSuffix }}.json`,
      "-",
    ], { stdin: manifests });
    if (result.code !== 0 && result.code !== 1) {
      throw new Error(`kubeconform failed (${result.code}):\n${result.stderr}${result.stdout}`);
    }
    return JSON.parse(result.stdout) as KubeconformReport;
  } finally {
    await Deno.remove(crdDir, { recursive: true });
  }
}

/** The problems of a report, one line each, for assertion messages. */
export function describeProblems(report: KubeconformReport): string {
  return report.resources.filter((resource) => resource.status !== "statusValid").map((
    resource,
  ) => `${resource.kind}/${resource.name}: ${resource.status} ${resource.msg}`).join("\n");
}

/** Every option of the chart switched on (with the hub behind a NodePort and an Ingress). */
export const ALL_OPTIONS = {
  image: { repository: "registry.example/mca", tag: "v0.1.0-rc.1", pullPolicy: "Always" },
  imagePullSecrets: [{ name: "registry-credentials" }],
  nameOverride: "multicluster",
  fullnameOverride: "mca-all",
  clusterDomain: "corp.internal",
  commonLabels: { "example.com/team": "platform" },
  aggregatedApi: { enabled: true, groupPriorityMinimum: 50 },
  monitoring: {
    serviceMonitor: {
      enabled: true,
      labels: { release: "kube-prometheus-stack" },
      interval: "1m",
      scrapeTimeout: "15s",
    },
    scrapeToken: { existingSecret: "prometheus-scrape-token" },
    prometheusRule: {
      enabled: true,
      labels: { release: "kube-prometheus-stack" },
      alertLabels: { team: "platform", severity: "page" },
      clusterWithoutAgentsFor: "10m",
      reconnectsPer15m: 10,
      memberErrorRatio: 0.1,
      memberErrorsFor: "15m",
    },
    dashboard: {
      enabled: true,
      labels: { grafana_dashboard: "1", team: "platform" },
      annotations: { grafana_folder: "mca" },
      namespace: "",
    },
  },
  networkPolicy: {
    enabled: true,
    webhookFrom: [{ ipBlock: { cidr: "10.0.0.0/16" } }],
    hubFrom: [{ namespaceSelector: { matchLabels: { "example.com/agents": "true" } } }],
  },
  webhook: {
    replicas: 3,
    failurePolicy: "Ignore",
    configurationName: "mca-all-options",
    caSecretName: "mca-webhook-ca-all",
    certValidity: "7d",
    caValidity: "365d",
    port: 10443,
    logLevel: "debug",
    logFormat: "text",
    extraArgs: ["--proxy-log-level=debug"],
    sidecar: {
      configName: "routes",
      logLevel: "warn",
      cpuRequest: "20m",
      memoryRequest: "64Mi",
      cpuLimit: "500m",
      memoryLimit: "512Mi",
    },
    priorityClassName: "mca-critical",
    podDisruptionBudget: { enabled: true, minAvailable: 2 },
    spreadAcrossNodes: true,
    resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: 1, memory: "1Gi" } },
    serviceAccountAnnotations: { "iam.example.com/role": "mca-webhook" },
    podAnnotations: { "prometheus.io/scrape": "true" },
    podLabels: { "example.com/tier": "control" },
    nodeSelector: { "kubernetes.io/os": "linux" },
    tolerations: [{ key: "dedicated", operator: "Equal", value: "control", effect: "NoSchedule" }],
    affinity: {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{
            matchExpressions: [{ key: "kubernetes.io/arch", operator: "In", values: ["amd64"] }],
          }],
        },
      },
    },
    topologySpreadConstraints: [{
      maxSkew: 1,
      topologyKey: "topology.kubernetes.io/zone",
      whenUnsatisfiable: "ScheduleAnyway",
      labelSelector: { matchLabels: { "app.kubernetes.io/component": "webhook" } },
    }],
  },
  hub: {
    replicas: 3,
    caSecretName: "mca-hub-ca-all",
    dnsNames: ["hub.example.org"],
    ipAddresses: ["203.0.113.10", "2001:db8::10"],
    certValidity: "90d",
    port: 10444,
    peerPort: 10445,
    logLevel: "debug",
    logFormat: "text",
    extraArgs: ["--log-level=warn"],
    service: {
      type: "NodePort",
      port: 8443,
      nodePort: 30443,
      annotations: { "example.com/exposed": "true" },
      externalTrafficPolicy: "Local",
    },
    ingress: {
      enabled: true,
      className: "nginx",
      host: "mca-hub.example.com",
      annotations: { "nginx.ingress.kubernetes.io/ssl-passthrough": "true" },
    },
    priorityClassName: "mca-critical",
    podDisruptionBudget: { enabled: true, minAvailable: 2 },
    terminationGracePeriodSeconds: 60,
    resources: { requests: { cpu: "200m", memory: "256Mi" }, limits: { cpu: 2, memory: "1Gi" } },
    serviceAccountAnnotations: { "iam.example.com/role": "mca-hub" },
    podAnnotations: { "prometheus.io/scrape": "true" },
    podLabels: { "example.com/tier": "edge" },
    nodeSelector: { "kubernetes.io/os": "linux" },
    tolerations: [{ key: "dedicated", operator: "Exists", effect: "NoSchedule" }],
    affinity: {
      podAntiAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [{
          topologyKey: "kubernetes.io/hostname",
          labelSelector: { matchLabels: { "app.kubernetes.io/component": "hub" } },
        }],
      },
    },
    topologySpreadConstraints: [{
      maxSkew: 1,
      topologyKey: "topology.kubernetes.io/zone",
      whenUnsatisfiable: "DoNotSchedule",
      labelSelector: { matchLabels: { "app.kubernetes.io/component": "hub" } },
    }],
  },
};

/** The value sets every render check runs with. */
export const VALUE_SETS: Record<string, Record<string, unknown>> = {
  "default values": {},
  "every option (NodePort and Ingress)": ALL_OPTIONS,
  "a LoadBalancer hub pinned by digest": {
    image: { digest: `sha256:${"0123456789abcdef".repeat(4)}` },
    hub: {
      service: {
        type: "LoadBalancer",
        loadBalancerSourceRanges: ["198.51.100.0/24"],
        externalTrafficPolicy: "Cluster",
      },
      ipAddresses: ["198.51.100.7"],
    },
  },
  "the hub alone": { webhook: { enabled: false } },
  "the hub without the aggregated entrance": { aggregatedApi: { enabled: false } },
  "monitoring on, with the chart's scrape token": {
    monitoring: {
      serviceMonitor: { enabled: true },
      prometheusRule: { enabled: true },
      dashboard: { enabled: true },
    },
  },
  "one webhook replica and no hub": {
    hub: { enabled: false },
    webhook: { replicas: 1, spreadAcrossNodes: false },
  },
};

/**
 * Installs the Prometheus Operator's ServiceMonitor, PodMonitor and PrometheusRule CRDs (server
 * side: their schemas exceed the client-side apply annotation) and waits until they serve, so
 * that the API server validates the chart's monitors as a cluster with the operator does.
 */
export async function applyMonitoringCrds(cluster: TestCluster): Promise<void> {
  const { monitoringCrds } = await chartTools();
  for (const file of monitoringCrds) {
    await kubectlOk(cluster, ["apply", "--server-side", "--force-conflicts", "-f", file]);
  }
  await kubectlOk(cluster, [
    "wait",
    "--for=condition=Established",
    "--timeout=60s",
    "crd/servicemonitors.monitoring.coreos.com",
    "crd/podmonitors.monitoring.coreos.com",
    "crd/prometheusrules.monitoring.coreos.com",
  ]);
}
