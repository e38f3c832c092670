/** URL paths of Kubernetes resources (https://kubernetes.io/docs/reference/using-api/api-concepts/). */

/** Identifies a resource collection or object. */
export interface ResourceRef {
  /** API group; "" or absent for the core group. */
  group?: string;
  version: string;
  /** Plural resource name, e.g. "pods". */
  resource: string;
  namespace?: string;
  name?: string;
  subresource?: string;
}

/** Builds `/api/v1/namespaces/ns/pods/name/status` style paths, escaping each segment. */
export function resourcePath(ref: ResourceRef): string {
  const segments = ref.group ? ["apis", ref.group, ref.version] : ["api", ref.version];
  if (ref.namespace) segments.push("namespaces", ref.namespace);
  segments.push(ref.resource);
  if (ref.name) segments.push(ref.name);
  if (ref.subresource) {
    if (!ref.name) {
      throw new Error(`Invalid resource path: subresource "${ref.subresource}" needs a name`);
    }
    segments.push(ref.subresource);
  }
  return "/" + segments.map((segment) => encodeURIComponent(segment)).join("/");
}

/** Splits an apiVersion ("apps/v1", "v1") into group and version. */
export function parseApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf("/");
  return slash < 0
    ? { group: "", version: apiVersion }
    : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}
