/** Parsing one route of the proxy's config (proxy_config.ts), each failure naming its field. Pure. */
import { array, bool, type Fail, object, optionalString, string } from "./_config_fields.ts";
import { parseSelector } from "./label_selector.ts";
import type { Route, RouteMatch } from "./proxy_config.ts";

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
const ROUTE_FIELDS = ["name", "match", "cluster", "clusters", "degraded"];
const MATCH_FIELDS = [
  "namespaces",
  "resources",
  "subresources",
  "verbs",
  "names",
  "labels",
  "annotations",
  "headers",
];

/** What parsing a route needs: how to fail, and the check that a name is a defined cluster. */
export interface RouteParsing {
  fail: Fail;
  /** The name, when it is a defined cluster (else a failure naming the field). */
  known: (name: string, field: string) => string;
}

/** Parses `routes[index]`. */
export function parseRoute(value: unknown, index: number, parsing: RouteParsing): Route {
  const { fail, known } = parsing;
  const field = `routes[${index}]`;
  const route = object(value, field, fail);
  for (const key of Object.keys(route)) {
    if (!ROUTE_FIELDS.includes(key)) fail(`${field}: unknown field "${key}"`);
  }
  const cluster = optionalString(route.cluster, `${field}.cluster`, fail);
  const set = route.clusters === undefined
    ? undefined
    : array(route.clusters, `${field}.clusters`, fail).map((c, i) =>
      known(string(c, `${field}.clusters[${i}]`, fail), `${field}.clusters[${i}]`)
    );
  if (!cluster && !set) fail(`${field} needs "cluster" (or "clusters" for merged reads)`);
  return {
    name: optionalString(route.name, `${field}.name`, fail) ?? `route-${index}`,
    match: routeMatch(object(route.match ?? {}, `${field}.match`, fail), `${field}.match`, fail),
    cluster: known(cluster ?? set![0]!, `${field}.cluster`),
    ...(set ? { clusters: set } : {}),
    ...(route.degraded === undefined
      ? {}
      : { degraded: bool(route.degraded, `${field}.degraded`, fail) }),
  };
}

/** Parses a route's `match`: every criterion given, checked. */
function routeMatch(value: Record<string, unknown>, field: string, fail: Fail): RouteMatch {
  for (const key of Object.keys(value)) {
    if (!MATCH_FIELDS.includes(key)) {
      fail(`${field}: unknown field "${key}" (fields: ${MATCH_FIELDS.join(", ")})`);
    }
  }
  const read = matchReader(value, field, fail);
  const verbs = read.list("verbs");
  for (const verb of verbs ?? []) {
    if (!VERBS.includes(verb)) {
      fail(`${field}.verbs: unknown verb "${verb}" (verbs: ${VERBS.join(", ")})`);
    }
  }
  const headers = read.headers();
  const resources = read.list("resources")?.map(resourcePattern);
  const labels = read.selector("labels");
  const annotations = read.selector("annotations");
  const namespaces = read.list("namespaces");
  const subresources = read.list("subresources");
  const names = read.list("names");
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

/** Readers of a match's criteria: lists of strings, label selectors, headers (names lowercased). */
function matchReader(value: Record<string, unknown>, field: string, fail: Fail) {
  return {
    list: (key: string) =>
      value[key] === undefined
        ? undefined
        : array(value[key], `${field}.${key}`, fail).map((v, i) =>
          string(v, `${field}.${key}[${i}]`, fail)
        ),
    selector: (key: string) => {
      if (value[key] === undefined) return undefined;
      try {
        return parseSelector(string(value[key], `${field}.${key}`, fail));
      } catch (error) {
        return fail(`${field}.${key}: ${(error as Error).message}`);
      }
    },
    headers: () =>
      value.headers === undefined ? undefined : Object.fromEntries(
        Object.entries(object(value.headers, `${field}.headers`, fail)).map((
          [k, v],
        ) => [k.toLowerCase(), string(v, `${field}.headers.${k}`, fail)]),
      ),
  };
}

/** `resource` (any group) or `resource.group`. */
function resourcePattern(item: string): { resource: string; group?: string } {
  const dot = item.indexOf(".");
  return dot < 0
    ? { resource: item }
    : { resource: item.slice(0, dot), group: item.slice(dot + 1) };
}
