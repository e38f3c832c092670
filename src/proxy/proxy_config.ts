/** The routing configuration of `mca proxy` (DESIGN.md §4): parsing with errors that name the field. Pure. */
import { parse as parseYaml } from "yaml";
import {
  array,
  bool,
  duration,
  type Fail,
  object,
  optionalString,
  string,
} from "./_config_fields.ts";
import { parseRoute } from "./_parse_route.ts";
import type { Selector } from "./label_selector.ts";

/** How to reach one cluster. */
export type ClusterSpec =
  | { type: "inCluster"; timeoutMs: number }
  | {
    type: "kubeconfig";
    kubeconfig?: string;
    context?: string;
    timeoutMs: number;
    /** The app's `Impersonate-*` headers go on to this cluster (default: dropped). */
    passImpersonation?: boolean;
  }
  | { type: "hub"; hub: string; cluster: string; caFile?: string; timeoutMs: number };

/** What a route matches; every given criterion must hold. */
export interface RouteMatch {
  /** Namespace names; `*` matches any run of characters. */
  namespaces?: string[];
  /** `resource` (any group), `resource.group`, or `*`. */
  resources?: { resource: string; group?: string }[];
  subresources?: string[];
  verbs?: string[];
  names?: string[];
  labels?: Selector;
  annotations?: Selector;
  /** Header name → value; `*` means "present". */
  headers?: Record<string, string>;
}

/** One routing rule. */
export interface Route {
  name: string;
  match: RouteMatch;
  /** Where matching requests go. */
  cluster: string;
  /** LIST and WATCH requests matching this route are sent to all of these, answers merged. */
  clusters?: string[];
  /** Merged reads answer from the clusters that work, with a Warning naming the others. */
  degraded?: boolean;
}

/** A checked configuration. */
export interface ProxyConfig {
  /** The pod's own cluster: discovery, leases and self-reviews go there. */
  home: string;
  /** Where requests no rule matches go. */
  default: string;
  clusters: Record<string, ClusterSpec>;
  routes: Route[];
}

/** A configuration that cannot be used; the message names the source and the field. */
export class ProxyConfigError extends Error {
  constructor(source: string, message: string) {
    super(`Invalid proxy config "${source}": ${message}`);
    this.name = "ProxyConfigError";
  }
}

/** The configuration without a file: everything to the in-cluster home. */
export function defaultProxyConfig(): ProxyConfig {
  return {
    home: "home",
    default: "home",
    clusters: { home: { type: "inCluster", timeoutMs: 10_000 } },
    routes: [],
  };
}

const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const TOP_LEVEL_FIELDS = ["apiVersion", "kind", "home", "default", "clusters", "routes"];

/**
 * Parses and checks a YAML configuration. `predefined` clusters (a workstation's contexts) may
 * be referenced without being declared; the first of them is then the home.
 */
export function parseProxyConfig(
  text: string,
  source: string,
  predefined: Record<string, ClusterSpec> = {},
): ProxyConfig {
  const fail = (message: string): never => {
    throw new ProxyConfigError(source, message);
  };
  const root = parseRoot(text, fail);
  const clusters = parseClusters(root.clusters, { fail, relativeTo: source, predefined });
  const home = optionalString(root.home, "home", fail) ?? Object.keys(predefined)[0] ?? "home";
  // A home cluster that is not defined is the in-cluster one: the common sidecar case.
  clusters[home] ??= { type: "inCluster", timeoutMs: 10_000 };
  const names = Object.keys(clusters);
  const known = (name: string, field: string) => {
    if (!clusters[name]) {
      fail(`${field} "${name}" is not a defined cluster (clusters: ${names.join(", ")})`);
    }
    return name;
  };
  const defaultCluster = known(optionalString(root.default, "default", fail) ?? home, "default");
  const routes = array(root.routes ?? [], "routes", fail).map((value, index) =>
    parseRoute(value, index, { fail, known })
  );
  return { home, default: defaultCluster, clusters, routes };
}

/** The YAML document's top level, with only known fields. */
function parseRoot(text: string, fail: Fail): Record<string, unknown> {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    fail(`not valid YAML: ${(error as Error).message.split("\n")[0]}`);
  }
  const root = object(raw ?? {}, "(top level)", fail);
  for (const key of Object.keys(root)) {
    if (!TOP_LEVEL_FIELDS.includes(key)) {
      fail(`unknown field "${key}" (fields: ${TOP_LEVEL_FIELDS.join(", ")})`);
    }
  }
  return root;
}

/** The declared clusters, after the predefined ones (a declared one replaces its namesake). */
function parseClusters(
  value: unknown,
  options: { fail: Fail; relativeTo: string; predefined: Record<string, ClusterSpec> },
): Record<string, ClusterSpec> {
  const { fail, relativeTo } = options;
  const clusters: Record<string, ClusterSpec> = { ...options.predefined };
  for (const [name, spec] of Object.entries(object(value ?? {}, "clusters", fail))) {
    if (!NAME.test(name)) {
      fail(`clusters.${name}: a cluster name must be a DNS label (lowercase letters, digits, "-")`);
    }
    const field = `clusters.${name}`;
    clusters[name] = clusterSpec(object(spec ?? {}, field, fail), field, { fail, relativeTo });
  }
  return clusters;
}

function clusterSpec(
  value: Record<string, unknown>,
  field: string,
  { fail, relativeTo }: { fail: Fail; relativeTo: string },
): ClusterSpec {
  const timeoutMs = value.timeout === undefined
    ? 10_000
    : duration(value.timeout, `${field}.timeout`, fail);
  const kinds = ["inCluster", "kubeconfig", "via"].filter((key) => value[key] !== undefined);
  if (kinds.length !== 1) {
    fail(`${field} needs exactly one of inCluster: true, kubeconfig, or via: hub`);
  }
  if (value.inCluster !== undefined) {
    if (value.inCluster !== true) fail(`${field}.inCluster must be true`);
    return { type: "inCluster", timeoutMs };
  }
  if (value.kubeconfig !== undefined) {
    const kubeconfig = besideFile(
      relativeTo,
      string(value.kubeconfig, `${field}.kubeconfig`, fail),
    );
    const context = optionalString(value.context, `${field}.context`, fail);
    const pass = value.passImpersonation !== undefined &&
      bool(value.passImpersonation, `${field}.passImpersonation`, fail);
    return {
      type: "kubeconfig",
      kubeconfig,
      ...(context ? { context } : {}),
      timeoutMs,
      ...(pass ? { passImpersonation: true } : {}),
    };
  }
  if (value.via !== "hub") fail(`${field}.via must be "hub"`);
  const hub = string(value.hub, `${field}.hub`, fail);
  if (!hub.startsWith("https://")) fail(`${field}.hub must be an https:// URL`);
  const caFile = optionalString(value.caFile, `${field}.caFile`, fail);
  return {
    type: "hub",
    hub,
    cluster: string(value.cluster, `${field}.cluster`, fail),
    ...(caFile ? { caFile: besideFile(relativeTo, caFile) } : {}),
    timeoutMs,
  };
}

/**
 * A relative path in the config is relative to the config file's folder, as kubeconfig does it:
 * a ConfigMap can then carry a CA or kubeconfig next to `config.yaml` wherever it is mounted.
 */
function besideFile(configPath: string, path: string): string {
  if (path.startsWith("/")) return path;
  const slash = configPath.lastIndexOf("/");
  return slash < 0 ? path : `${configPath.slice(0, slash + 1)}${path}`;
}
