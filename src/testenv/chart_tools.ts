/**
 * The tools that validate the Helm chart: helm and kubeconform built from the Go module proxy,
 * and kubeconform's Kubernetes JSON schemas generated from the OpenAPI document of the
 * Kubernetes release the tests run (GitHub, where such schemas are usually fetched from, is not
 * reachable from every build machine). All of it is cached under `$XDG_CACHE_HOME/mca/tools/`.
 */
import { basename, dirname, join } from "node:path";
import { buildGoProgram, type BuildProgress, hasGo } from "./go_build.ts";
import {
  kubeconformSchemas,
  kubeconformVersionFolder,
  type OpenApiV2,
} from "./kubeconform_schemas.ts";
import { KUBERNETES_VERSION } from "./versions.ts";

/** helm release built for the chart checks (helm.sh/helm/v3). */
export const HELM_VERSION = "v3.22.0";
/**
 * The Kubernetes minor release helm's client libraries belong to (helm v3.22.0 requires
 * k8s.io/client-go v0.37.0). helm's Makefile stamps it; without it helm assumes Kubernetes 1.20
 * for `.Capabilities.KubeVersion` and for its deprecated-API lint.
 */
const HELM_KUBERNETES_MINOR = "37";
/** kubeconform release (github.com/yannh/kubeconform). */
export const KUBECONFORM_VERSION = "v0.8.0";
/** promtool's release: Prometheus v3.16.0 (module github.com/prometheus/prometheus v0.316.0). */
export const PROMTOOL_VERSION = "v0.316.0";
/** The Prometheus Operator release whose monitoring.coreos.com CRDs the chart is checked with. */
export const PROMETHEUS_OPERATOR_VERSION = "v0.85.0";
/** The CRDs of the chart's ServiceMonitor, PodMonitor and PrometheusRule. */
const MONITORING_CRDS = ["servicemonitors", "podmonitors", "prometheusrules"];
/** Bumped whenever the schema conversion changes, so that cached schemas are regenerated. */
const SCHEMA_REVISION = "r1";

/** Where the chart tools are. */
export interface ChartTools {
  helm: string;
  kubeconform: string;
  /** kubeconform `-schema-location` folder for KUBERNETES_VERSION (strict schemas inside). */
  schemaLocation: string;
  /** promtool, to check and unit-test the chart's alerting rules. */
  promtool: string;
  /** The monitoring.coreos.com CRD files (ServiceMonitor, PodMonitor, PrometheusRule). */
  monitoringCrds: string[];
}

/** Inputs that decide the cache folder. */
export interface ChartToolsDirOptions {
  env?: (name: string) => string | undefined;
}

/** The paths of the tools in the cache, present or not. */
export function chartToolPaths(options: ChartToolsDirOptions = {}): ChartTools {
  const env = options.env ?? ((name: string) => Deno.env.get(name));
  const cache = env("XDG_CACHE_HOME") || join(env("HOME") ?? "/tmp", ".cache");
  const tools = join(cache, "mca", "tools");
  return {
    helm: join(tools, `helm-${HELM_VERSION}`, "helm"),
    kubeconform: join(tools, `kubeconform-${KUBECONFORM_VERSION}`, "kubeconform"),
    schemaLocation: join(
      tools,
      `kubernetes-json-schema-${KUBERNETES_VERSION}-${SCHEMA_REVISION}`,
    ),
    promtool: join(tools, `promtool-${PROMTOOL_VERSION}`, "promtool"),
    monitoringCrds: MONITORING_CRDS.map((plural) =>
      join(
        tools,
        `prometheus-operator-crds-${PROMETHEUS_OPERATOR_VERSION}`,
        `monitoring.coreos.com_${plural}.yaml`,
      )
    ),
  };
}

/** The folder inside the schema location that holds the strict schemas. */
function strictSchemaDir(tools: ChartTools): string {
  return join(tools.schemaLocation, kubeconformVersionFolder(KUBERNETES_VERSION, { strict: true }));
}

/** Finds the tools, or throws a message that says exactly how to get them. */
export async function findChartTools(options: ChartToolsDirOptions = {}): Promise<ChartTools> {
  const tools = chartToolPaths(options);
  const missing: string[] = [];
  for (const path of [tools.helm, tools.kubeconform, tools.promtool, ...tools.monitoringCrds]) {
    if (!(await Deno.stat(path).catch(() => undefined))?.isFile) missing.push(path);
  }
  if (!(await Deno.stat(strictSchemaDir(tools)).catch(() => undefined))?.isDirectory) {
    missing.push(strictSchemaDir(tools));
  }
  if (missing.length > 0) {
    throw new Error(
      `The chart tools are missing: ${missing.map((path) => `"${path}"`).join(", ")}. ` +
        `Build them once with "scripts/deno run --allow-all scripts/chart_tools_build.ts" ` +
        `(needs Go 1.24+ from https://go.dev/dl and the Go module proxy; takes a few minutes)`,
    );
  }
  return tools;
}

/** Options of buildChartTools. */
export interface BuildChartToolsOptions extends ChartToolsDirOptions {
  onProgress?: BuildProgress;
  /** Rebuild even what is cached. */
  force?: boolean;
}

/** Builds helm and kubeconform and generates the schemas, each unless cached already. */
export async function buildChartTools(options: BuildChartToolsOptions = {}): Promise<ChartTools> {
  const progress = options.onProgress ?? (() => {});
  const tools = chartToolPaths(options);
  const cached = async (path: string) =>
    !options.force && (await Deno.stat(path).catch(() => undefined)) !== undefined;
  const built = [tools.helm, tools.kubeconform, tools.promtool, ...tools.monitoringCrds];
  if (!(await Promise.all(built.map(cached))).every(Boolean)) {
    if (!(await hasGo())) {
      throw new Error(
        "Building the chart tools (helm, kubeconform, promtool) needs the Go toolchain (1.24+), which was " +
          "not found on PATH. Install it from https://go.dev/dl",
      );
    }
  }
  if (!(await cached(tools.helm))) {
    await buildGoProgram({
      name: "helm",
      version: HELM_VERSION,
      pkg: `helm.sh/helm/v3/cmd/helm@${HELM_VERSION}`,
      // What helm's own Makefile stamps: the release, and the Kubernetes version it knows.
      ldflags: [
        "-s -w",
        `-X helm.sh/helm/v3/internal/version.version=${HELM_VERSION}`,
        "-X helm.sh/helm/v3/internal/version.gitTreeState=clean",
        ...["pkg/lint/rules", "pkg/chartutil"].flatMap((pkg) => [
          `-X helm.sh/helm/v3/${pkg}.k8sVersionMajor=1`,
          `-X helm.sh/helm/v3/${pkg}.k8sVersionMinor=${HELM_KUBERNETES_MINOR}`,
        ]),
      ].join(" "),
      output: tools.helm,
    }, { onProgress: progress });
  }
  if (!(await cached(tools.kubeconform))) {
    await buildGoProgram({
      name: "kubeconform",
      version: KUBECONFORM_VERSION,
      pkg: `github.com/yannh/kubeconform/cmd/kubeconform@${KUBECONFORM_VERSION}`,
      ldflags: `-s -w -X main.version=${KUBECONFORM_VERSION}`,
      output: tools.kubeconform,
    }, { onProgress: progress });
  }
  if (!(await cached(tools.promtool))) {
    await buildGoProgram({
      name: "promtool",
      version: PROMTOOL_VERSION,
      pkg: `github.com/prometheus/prometheus/cmd/promtool@${PROMTOOL_VERSION}`,
      // What Prometheus's own build stamps, so that `promtool --version` names the release.
      ldflags: "-s -w -X github.com/prometheus/common/version.Version=3.16.0",
      output: tools.promtool,
    }, { onProgress: progress });
  }
  if (!(await Promise.all(tools.monitoringCrds.map(cached))).every(Boolean)) {
    await copyMonitoringCrds(tools);
  }
  if (!(await cached(strictSchemaDir(tools)))) {
    await writeKubernetesSchemas(tools, progress);
  }
  return await findChartTools(options);
}

/**
 * The monitoring.coreos.com CRDs from the Prometheus Operator's module, as its release publishes
 * them (example/prometheus-operator-crd/), so that a test API server validates the chart's
 * monitors as a cluster with the operator would.
 */
async function copyMonitoringCrds(tools: ChartTools): Promise<void> {
  const moduleDir = await downloadGoModule(
    `github.com/prometheus-operator/prometheus-operator@${PROMETHEUS_OPERATOR_VERSION}`,
  );
  for (const target of tools.monitoringCrds) {
    await Deno.mkdir(dirname(target), { recursive: true });
    const source = join(moduleDir, "example", "prometheus-operator-crd", basename(target));
    await Deno.copyFile(source, `${target}.partial`);
    await Deno.rename(`${target}.partial`, target);
  }
}

/** `go mod download` of one module version; returns its folder in the module cache. */
async function downloadGoModule(module: string): Promise<string> {
  const download = await new Deno.Command("go", {
    args: ["mod", "download", "-json", module],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(download.stdout);
  if (!download.success) {
    throw new Error(
      `Cannot download ${module} from the Go module proxy: ${text}${
        new TextDecoder().decode(download.stderr)
      }`,
    );
  }
  return (JSON.parse(text) as { Dir: string }).Dir;
}

/**
 * Converts the OpenAPI v2 document of the k8s.io/kubernetes module (the release the test
 * control plane is built from) into kubeconform's layout.
 */
async function writeKubernetesSchemas(tools: ChartTools, progress: BuildProgress) {
  progress(`Generating the Kubernetes ${KUBERNETES_VERSION} JSON schemas for kubeconform...`);
  const moduleDir = await downloadGoModule(`k8s.io/kubernetes@${KUBERNETES_VERSION}`);
  const openApi = JSON.parse(
    await Deno.readTextFile(join(moduleDir, "api", "openapi-spec", "swagger.json")),
  ) as OpenApiV2;
  const files = kubeconformSchemas(openApi, { strict: true });
  // Written aside and renamed when complete: a half-written folder never counts as cached.
  const target = strictSchemaDir(tools);
  const partial = `${target}.partial`;
  await Deno.remove(partial, { recursive: true }).catch(() => {});
  await Deno.mkdir(partial, { recursive: true });
  for (const [name, schema] of files) {
    await Deno.writeTextFile(join(partial, name), JSON.stringify(schema));
  }
  await Deno.remove(target, { recursive: true }).catch(() => {});
  await Deno.rename(partial, target);
  progress(`Wrote ${files.size} schemas to ${target}`);
}
