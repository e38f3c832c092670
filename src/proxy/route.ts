/** Which cluster serves a request (DESIGN.md §4). Pure: the handler does the I/O of owner lookups. */
import type { BodyMetadata } from "./body_metadata.ts";
import { matchesSelector, type Selector } from "./label_selector.ts";
import type { ProxyConfig, Route, RouteMatch } from "./proxy_config.ts";
import type { RequestInfo } from "./request_info.ts";

/** The label that pins an object to a cluster. */
export const CLUSTER_LABEL = "mca.k8s.io/cluster";

/** A request as routing sees it. */
export interface RoutableRequest {
  info: RequestInfo;
  /** Header lookup, case-insensitive. */
  header: (name: string) => string | null;
  /** Labels and annotations from the body of a write; absent for requests without one. */
  body?: BodyMetadata;
}

/**
 * The decision: one cluster, or the clusters that may own a named object (asked in parallel;
 * the last candidate is where the request goes when none has it).
 */
export type RouteDecision =
  | { type: "cluster"; cluster: string; reason: string; route?: string }
  | { type: "lookup"; candidates: string[]; reason: string }
  | { type: "merge"; clusters: string[]; reason: string; route: string; degraded: boolean }
  | { type: "reject"; code: number; message: string };

// Requests that must never be split: one leader election, one identity (DESIGN.md §4).
const HOME_ONLY: { group: string; resource: string }[] = [
  { group: "coordination.k8s.io", resource: "leases" },
  { group: "authorization.k8s.io", resource: "selfsubjectaccessreviews" },
  { group: "authorization.k8s.io", resource: "selfsubjectrulesreviews" },
  { group: "authentication.k8s.io", resource: "selfsubjectreviews" },
  { group: "authentication.k8s.io", resource: "tokenreviews" },
];

type Tri = "yes" | "no" | "unknown";

/** Decides where a request goes: by the body's pin or source, then the routes, then the default. */
export function decideRoute(config: ProxyConfig, request: RoutableRequest): RouteDecision {
  const { info } = request;
  if (!info.isResourceRequest) {
    return {
      type: "cluster",
      cluster: config.home,
      reason: "discovery and non-resource paths stay home",
    };
  }
  const homeOnly = HOME_ONLY.some((h) => h.group === info.apiGroup && h.resource === info.resource);
  const byBody = homeOnly ? undefined : routeByBody(config, request.body);
  if (byBody) return byBody;
  const routed = applyRoutes(config, request, homeOnly);
  if (routed.type !== "undecided") return routed;
  return lookUpOrFallBack(config, info, { ...routed, homeOnly });
}

/** Where a route (or the default) sends a request when no lookup is needed. */
type Fallback = { cluster: string; reason: string; route?: string };

/** The routes could not decide: where they point, and the routes that need the object's labels. */
type Undecided = { type: "undecided"; fallback: Fallback | undefined; unknownRoutes: string[] };

/**
 * A write whose object is pinned by the cluster label goes there (an unknown cluster is refused);
 * an object read through a merged LIST or WATCH says where it came from, and goes back there.
 */
function routeByBody(
  config: ProxyConfig,
  body: BodyMetadata | undefined,
): RouteDecision | undefined {
  const pin = body?.labels[CLUSTER_LABEL];
  if (pin !== undefined) {
    if (!config.clusters[pin]) {
      return {
        type: "reject",
        code: 400,
        message:
          `The label ${CLUSTER_LABEL}="${pin}" names a cluster this proxy does not know (clusters: ${
            Object.keys(config.clusters).join(", ")
          })`,
      };
    }
    return { type: "cluster", cluster: pin, reason: `pinned by the label ${CLUSTER_LABEL}` };
  }
  const source = body?.annotations[CLUSTER_LABEL];
  if (source !== undefined && config.clusters[source]) {
    return {
      type: "cluster",
      cluster: source,
      reason: `the object came from a merged read of "${source}" (annotation ${CLUSTER_LABEL})`,
    };
  }
  return undefined;
}

/**
 * The first route that matches decides, unless a route before it depends on labels the request
 * does not carry: then the matching route is only the fallback of a lookup. Home-only requests
 * follow only rules that name their resource explicitly.
 */
function applyRoutes(
  config: ProxyConfig,
  request: RoutableRequest,
  homeOnly: boolean,
): RouteDecision | Undecided {
  const { info } = request;
  const routes = homeOnly
    ? config.routes.filter((route) =>
      route.match.resources?.some((r) => r.resource === info.resource)
    )
    : config.routes;
  const unknownRoutes: string[] = [];
  for (const route of routes) {
    const result = matchRoute(route, request);
    if (result === "no") continue;
    if (result === "unknown") {
      unknownRoutes.push(route.name);
      continue;
    }
    const fallback = { cluster: route.cluster, reason: `route "${route.name}"`, route: route.name };
    if (unknownRoutes.length > 0) return { type: "undecided", fallback, unknownRoutes };
    const merged = route.clusters && route.clusters.length > 1 &&
      (info.verb === "list" || info.verb === "watch");
    if (!merged) return { type: "cluster", ...fallback };
    return {
      type: "merge",
      clusters: route.clusters!,
      reason: `route "${route.name}" merges reads of ${route.clusters!.join(", ")}`,
      route: route.name,
      degraded: route.degraded ?? false,
    };
  }
  return { type: "undecided", fallback: undefined, unknownRoutes };
}

/**
 * A named, namespaced object may live in any cluster (a pin label, another pod's writes): unless
 * a route said where for sure, the candidates are asked, the fallback last. Cluster-scoped
 * objects (namespaces, CRDs, nodes) exist per cluster and follow the routes and the default.
 */
function lookUpOrFallBack(
  config: ProxyConfig,
  info: RequestInfo,
  { fallback: routed, unknownRoutes, homeOnly }: Undecided & { homeOnly: boolean },
): RouteDecision {
  const fallback = routed ??
    (homeOnly
      ? { cluster: config.home, reason: `${info.resource} stay in the home cluster` }
      : { cluster: config.default, reason: "no route matched: default" });
  const clusters = Object.keys(config.clusters);
  if (homeOnly || !isNamespacedByName(info) || clusters.length <= 1) {
    return { type: "cluster", ...fallback };
  }
  const reason = unknownRoutes.length > 0
    ? `the object's labels are not in the request, and routes ${
      unknownRoutes.map((r) => `"${r}"`).join(", ")
    } depend on them`
    : "no route says where this named object lives";
  const preferred = fallback.cluster;
  return {
    type: "lookup",
    candidates: [...clusters.filter((c) => c !== preferred), preferred],
    reason,
  };
}

/** Requests that address one namespaced object (or its subresource) by name. */
export function isNamespacedByName(info: RequestInfo): boolean {
  return info.name !== "" && info.namespace !== "" && info.resource !== "namespaces" &&
    ["get", "update", "patch", "delete", "create"].includes(info.verb) &&
    (info.verb !== "create" || info.subresource !== "");
}

/** yes, no, or unknown when the route depends on labels the request does not carry. */
export function matchRoute(route: Route, request: RoutableRequest): Tri {
  const { info } = request;
  const m: RouteMatch = route.match;
  if (m.namespaces && !m.namespaces.some((pattern) => globMatches(pattern, info.namespace))) {
    return "no";
  }
  if (m.resources && !m.resources.some((r) => resourceMatches(r, info))) return "no";
  if (m.subresources && !m.subresources.includes(info.subresource)) return "no";
  if (m.verbs && !m.verbs.includes(info.verb)) return "no";
  if (m.names && !m.names.includes(info.name)) return "no";
  if (m.headers) {
    for (const [name, expected] of Object.entries(m.headers)) {
      const value = request.header(name);
      if (value === null || (expected !== "*" && value !== expected)) return "no";
    }
  }
  const labels = selectorResult(m.labels, request, "labels");
  const annotations = selectorResult(m.annotations, request, "annotations");
  if (labels === "no" || annotations === "no") return "no";
  if (labels === "unknown" || annotations === "unknown") return "unknown";
  return "yes";
}

/**
 * Full objects (create, update) say what the labels are; a patch only what it changes, and a
 * request by name without a body says nothing. Collection requests never match label routes.
 */
function selectorResult(
  selector: Selector | undefined,
  request: RoutableRequest,
  field: "labels" | "annotations",
): Tri {
  if (!selector) return "yes";
  const { verb, name } = request.info;
  const body = request.body;
  if (body?.readable && (verb === "create" || verb === "update")) {
    return matchesSelector(selector, body[field]) ? "yes" : "no";
  }
  if (
    body?.readable && verb === "patch" && matchesSelector(selector, body[field]) &&
    Object.keys(body[field]).length > 0
  ) {
    return "yes";
  }
  return name ? "unknown" : "no";
}

function resourceMatches(
  pattern: { resource: string; group?: string },
  info: RequestInfo,
): boolean {
  if (pattern.resource !== "*" && pattern.resource !== info.resource) return false;
  return pattern.group === undefined || pattern.group === "*" || pattern.group === info.apiGroup;
}

function globMatches(pattern: string, value: string): boolean {
  if (!pattern.includes("*")) return pattern === value;
  const regex = new RegExp("^" + pattern.split("*").map(escapeRegex).join(".*") + "$");
  return regex.test(value);
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
