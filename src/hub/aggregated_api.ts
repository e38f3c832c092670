/**
 * The hub as an aggregated API of the host (APIService `v1alpha1.proxy.mca.k8s.io`): the path
 * `/apis/proxy.mca.k8s.io/v1alpha1/clusters/<name>/proxy/<member path>` maps onto the direct
 * entrance's `/clusters/<name>/<member path>`, and the discovery documents kube-apiserver's
 * aggregator fetches are answered here. Pure.
 * https://kubernetes.io/docs/concepts/extend-kubernetes/api-extension/apiserver-aggregation/
 */
import { type ClusterTarget, parseClusterTarget } from "./cluster_path.ts";

/** The API group and version of the aggregated entrance. */
export const PROXY_GROUP = "proxy.mca.k8s.io";
export const PROXY_VERSION = "v1alpha1";
/** The APIService's name, as the chart registers it. */
export const PROXY_API_SERVICE = `${PROXY_VERSION}.${PROXY_GROUP}`;

const VERSION_PREFIX = `/apis/${PROXY_GROUP}/${PROXY_VERSION}`;
const CLUSTERS_PREFIX = `${VERSION_PREFIX}/clusters/`;

/** True for paths the aggregated entrance answers (discovery, OpenAPI, members). */
export function isAggregatedPath(path: string): boolean {
  return path === "/apis" || path.startsWith("/apis/") || path.startsWith("/openapi/");
}

/**
 * The member and path of an aggregated request: undefined when the path is not a member's
 * proxy path, an Error when it is malformed (the same checks as the direct entrance).
 */
export function parseAggregatedTarget(target: string): ClusterTarget | Error | undefined {
  if (!target.startsWith(CLUSTERS_PREFIX)) return undefined;
  const question = target.indexOf("?");
  const path = question < 0 ? target : target.slice(0, question);
  const query = question < 0 ? "" : target.slice(question);
  const [name = "", subresource, ...rest] = path.slice(CLUSTERS_PREFIX.length).split("/");
  if (subresource !== "proxy") return undefined;
  return parseClusterTarget(`/clusters/${name}/${rest.join("/")}${query}`);
}

/** A discovery answer: JSON and its content type. */
export interface DiscoveryDocument {
  contentType: string;
  body: string;
}

const JSON_TYPE = "application/json";
/** The aggregated discovery form kube-apiserver's aggregator asks for first (KEP-3352). */
const AGGREGATED_DISCOVERY = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/** The proxy verbs `clusters/proxy` takes, as kube-apiserver derives them from HTTP methods. */
const PROXY_VERBS = ["create", "delete", "get", "patch", "update"];

/**
 * The discovery document for a path, undefined when there is none. Only `clusters/proxy` is
 * listed, as a subresource: a listed `clusters` resource would compete with the Cluster CRD
 * (`kubectl get clusters`) although nothing here can list or get Clusters.
 */
export function discoveryDocument(path: string, accept: string): DiscoveryDocument | undefined {
  const groupVersion = `${PROXY_GROUP}/${PROXY_VERSION}`;
  const version = { groupVersion, version: PROXY_VERSION };
  const group = { name: PROXY_GROUP, versions: [version], preferredVersion: version };
  const json = (value: unknown) => ({ contentType: JSON_TYPE, body: JSON.stringify(value) });
  switch (path) {
    case "/apis":
      if (acceptsAggregatedDiscovery(accept)) {
        return { contentType: AGGREGATED_DISCOVERY, body: JSON.stringify(aggregatedDiscovery()) };
      }
      return json({ kind: "APIGroupList", apiVersion: "v1", groups: [group] });
    case `/apis/${PROXY_GROUP}`:
      return json({ kind: "APIGroup", apiVersion: "v1", ...group });
    case VERSION_PREFIX:
      return json({
        kind: "APIResourceList",
        apiVersion: "v1",
        groupVersion,
        resources: [{
          name: "clusters/proxy",
          singularName: "",
          namespaced: false,
          kind: "ClusterProxyOptions",
          verbs: PROXY_VERBS,
        }],
      });
    // Empty OpenAPI documents: on a 404 kube-apiserver's aggregator logs an error and retries
    // forever; `clusters/proxy` has no schema to publish (the member publishes its own).
    case "/openapi/v2":
      return json({ swagger: "2.0", info: { title: "mca", version: PROXY_VERSION }, paths: {} });
    case "/openapi/v3":
      return json({ paths: {} });
    default:
      return undefined;
  }
}

/** True when the Accept header lists the aggregated discovery v2 form. */
function acceptsAggregatedDiscovery(accept: string): boolean {
  return accept.split(",").some((part) => {
    const params = part.split(";").map((p) => p.trim().replace(/\s+/g, ""));
    return params[0] === JSON_TYPE && params.includes("g=apidiscovery.k8s.io") &&
      params.includes("v=v2") && params.includes("as=APIGroupDiscoveryList");
  });
}

function aggregatedDiscovery() {
  const kind = { group: PROXY_GROUP, version: PROXY_VERSION, kind: "ClusterProxyOptions" };
  return {
    kind: "APIGroupDiscoveryList",
    apiVersion: "apidiscovery.k8s.io/v2",
    metadata: {},
    items: [{
      metadata: { name: PROXY_GROUP },
      versions: [{
        version: PROXY_VERSION,
        // A resource without verbs of its own: only its proxy subresource is served.
        resources: [{
          resource: "clusters",
          responseKind: kind,
          scope: "Cluster",
          verbs: [],
          subresources: [{ subresource: "proxy", responseKind: kind, verbs: PROXY_VERBS }],
        }],
        freshness: "Current",
      }],
    }],
  };
}
