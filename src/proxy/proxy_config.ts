/** The routing configuration of `mca proxy` (DESIGN.md §4): parsing with errors that name the field. Pure. */
import { parse as parseYaml } from "yaml";
import { parseDuration } from "../common/mod.ts";
import { parseSelector, type Selector } from "./label_selector.ts";

/** How to reach one cluster. */
export type ClusterSpec =
  | { type: "inCluster"; timeoutMs: number }
  | { type: "kubeconfig"; kubeconfig?: string; context?: string; timeoutMs: number }
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

const VERBS = [
  "get",
  "list",
  "watch",
  "create",
  "update",
  "patch",
  "delete",
  "deletecollection",
  "proxy",
  "connect",
];
const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

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
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    fail(`not valid YAML: ${(error as Error).message.split("\n")[0]}`);
  }
  const root = object(raw ?? {}, "(top level)", fail);
  const known = ["apiVersion", "kind", "home", "default", "clusters", "routes"];
  for (const key of Object.keys(root)) {
    if (!known.includes(key)) fail(`unknown field "${key}" (fields: ${known.join(", ")})`);
  }
  const clusters: Record<string, ClusterSpec> = { ...predefined };
  for (const [name, value] of Object.entries(object(root.clusters ?? {}, "clusters", fail))) {
    if (!NAME.test(name)) {
      fail(`clusters.${name}: a cluster name must be a DNS label (lowercase letters, digits, "-")`);
    }
    clusters[name] = clusterSpec(
      object(value ?? {}, `clusters.${name}`, fail),
      `clusters.${name}`,
      { fail, relativeTo: source },
    );
  }
  const home = optionalString(root.home, "home", fail) ?? Object.keys(predefined)[0] ?? "home";
  // A home cluster that is not defined is the in-cluster one: the common sidecar case.
  clusters[home] ??= { type: "inCluster", timeoutMs: 10_000 };
  const names = Object.keys(clusters);
  const known_ = (name: string, field: string) => {
    if (!clusters[name]) {
      fail(`${field} "${name}" is not a defined cluster (clusters: ${names.join(", ")})`);
    }
    return name;
  };
  const defaultCluster = known_(optionalString(root.default, "default", fail) ?? home, "default");
  const routes = array(root.routes ?? [], "routes", fail).map((value, index) => {
    const field = `routes[${index}]`;
    const route = object(value, field, fail);
    for (const key of Object.keys(route)) {
      if (!["name", "match", "cluster", "clusters", "degraded"].includes(key)) {
        fail(`${field}: unknown field "${key}"`);
      }
    }
    const cluster = optionalString(route.cluster, `${field}.cluster`, fail);
    const set = route.clusters === undefined
      ? undefined
      : array(route.clusters, `${field}.clusters`, fail).map((c, i) =>
        known_(string(c, `${field}.clusters[${i}]`, fail), `${field}.clusters[${i}]`)
      );
    if (!cluster && !set) fail(`${field} needs "cluster" (or "clusters" for merged reads)`);
    return {
      name: optionalString(route.name, `${field}.name`, fail) ?? `route-${index}`,
      match: routeMatch(object(route.match ?? {}, `${field}.match`, fail), `${field}.match`, fail),
      cluster: known_(cluster ?? set![0]!, `${field}.cluster`),
      ...(set ? { clusters: set } : {}),
      ...(route.degraded === undefined
        ? {}
        : { degraded: bool(route.degraded, `${field}.degraded`, fail) }),
    };
  });
  return { home, default: defaultCluster, clusters, routes };
}

function clusterSpec(
  value: Record<string, unknown>,
  field: string,
  { fail, relativeTo }: { fail: (m: string) => never; relativeTo: string },
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
    return { type: "kubeconfig", kubeconfig, ...(context ? { context } : {}), timeoutMs };
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

function routeMatch(
  value: Record<string, unknown>,
  field: string,
  fail: (m: string) => never,
): RouteMatch {
  const keys = [
    "namespaces",
    "resources",
    "subresources",
    "verbs",
    "names",
    "labels",
    "annotations",
    "headers",
  ];
  for (const key of Object.keys(value)) {
    if (!keys.includes(key)) {
      fail(`${field}: unknown field "${key}" (fields: ${keys.join(", ")})`);
    }
  }
  const list = (key: string) =>
    value[key] === undefined
      ? undefined
      : array(value[key], `${field}.${key}`, fail).map((v, i) =>
        string(v, `${field}.${key}[${i}]`, fail)
      );
  const selector = (key: string) => {
    if (value[key] === undefined) return undefined;
    try {
      return parseSelector(string(value[key], `${field}.${key}`, fail));
    } catch (error) {
      return fail(`${field}.${key}: ${(error as Error).message}`);
    }
  };
  const verbs = list("verbs");
  for (const verb of verbs ?? []) {
    if (!VERBS.includes(verb)) {
      fail(`${field}.verbs: unknown verb "${verb}" (verbs: ${VERBS.join(", ")})`);
    }
  }
  const headers = value.headers === undefined ? undefined : Object.fromEntries(
    Object.entries(object(value.headers, `${field}.headers`, fail)).map((
      [k, v],
    ) => [k.toLowerCase(), string(v, `${field}.headers.${k}`, fail)]),
  );
  const resources = list("resources")?.map((item) => {
    const dot = item.indexOf(".");
    return dot < 0
      ? { resource: item }
      : { resource: item.slice(0, dot), group: item.slice(dot + 1) };
  });
  const labels = selector("labels");
  const annotations = selector("annotations");
  const namespaces = list("namespaces");
  const subresources = list("subresources");
  const names = list("names");
  return {
    ...(namespaces ? { namespaces } : {}),
    ...(resources ? { resources } : {}),
    ...(subresources ? { subresources } : {}),
    ...(verbs ? { verbs } : {}),
    ...(names ? { names } : {}),
    ...(labels ? { labels } : {}),
    ...(annotations ? { annotations } : {}),
    ...(headers ? { headers } : {}),
  };
}

function object(
  value: unknown,
  field: string,
  fail: (m: string) => never,
): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    fail(`${field} must be a map`);
  }
  return value as Record<string, unknown>;
}

function array(value: unknown, field: string, fail: (m: string) => never): unknown[] {
  if (!Array.isArray(value)) fail(`${field} must be a list`);
  return value as unknown[];
}

function string(value: unknown, field: string, fail: (m: string) => never): string {
  if (typeof value !== "string" || value === "") fail(`${field} must be a non-empty string`);
  return value as string;
}

function optionalString(
  value: unknown,
  field: string,
  fail: (m: string) => never,
): string | undefined {
  return value === undefined || value === null ? undefined : string(value, field, fail);
}

function duration(value: unknown, field: string, fail: (m: string) => never): number {
  try {
    return parseDuration(string(value, field, fail), field);
  } catch (error) {
    return fail((error as Error).message);
  }
}

function bool(value: unknown, field: string, fail: (message: string) => never): boolean {
  if (typeof value !== "boolean") fail(`${field} must be true or false`);
  return value as boolean;
}
