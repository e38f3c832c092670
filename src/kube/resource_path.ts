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

/** What identifies the object of a manifest. */
export interface ManifestHead {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
}

/**
 * The path of the object a manifest describes, for a server-side apply. The plural is the
 * lowercased kind plus "s", which holds for the built-in kinds mca applies (not for e.g. Ingress).
 */
export function manifestPath(manifest: ManifestHead): string {
  const { group, version } = parseApiVersion(manifest.apiVersion);
  return resourcePath({
    ...(group ? { group } : {}),
    version,
    resource: `${manifest.kind.toLowerCase()}s`,
    ...(manifest.metadata.namespace ? { namespace: manifest.metadata.namespace } : {}),
    name: manifest.metadata.name,
  });
}
