/**
 * What else a namespace holds: before `mca agent uninstall` deletes the agent's namespace, it
 * looks through every listable namespaced resource the API server serves (discovery), so that
 * objects someone else put there are never deleted with it.
 */
import { KubeApiError, type KubeClient, type KubeObject } from "../kube/mod.ts";

/** One namespaced resource as discovery lists it. */
interface ApiResource {
  name: string;
  kind: string;
  namespaced: boolean;
  verbs: string[];
}

/** A collection to look through: its path prefix ("/api/v1", "/apis/apps/v1") and resource. */
interface Collection {
  groupVersion: string;
  prefix: string;
  resource: ApiResource;
}

// Events are records of what happened, not objects anyone placed; metrics.k8s.io serves views
// of pods, not objects of its own.
const SKIPPED_RESOURCES = new Set(["events"]);
const SKIPPED_GROUPS = new Set(["metrics.k8s.io"]);
/** What Kubernetes itself puts in every namespace (kube-controller-manager). */
const BUILT_IN_OBJECTS = new Set(["ConfigMap/kube-root-ca.crt", "ServiceAccount/default"]);

/**
 * The objects in `namespace` that are not `ours`, as "Kind/name" (at most `limit`): neither
 * owned by another object (the garbage collector removes those with their owner) nor created
 * by Kubernetes in every namespace. A collection that cannot be listed counts as foreign: what
 * it holds is unknown.
 */
export async function foreignObjects(
  client: KubeClient,
  namespace: string,
  options: { ours: (object: KubeObject) => boolean; limit?: number },
): Promise<string[]> {
  const collections = await namespacedCollections(client);
  const found = await Promise.all(
    collections.map((collection) => foreignIn(client, namespace, collection, options.ours)),
  );
  return found.flat().slice(0, options.limit ?? 5);
}

/** Every listable namespaced resource, in the preferred version of its group. */
async function namespacedCollections(client: KubeClient): Promise<Collection[]> {
  const core = await client.get<{ versions: string[] }>("/api");
  const groups = await client.get<{
    groups: { name: string; preferredVersion: { groupVersion: string } }[];
  }>("/apis");
  const groupVersions = [
    ...core.versions.map((version) => ({ groupVersion: version, prefix: `/api/${version}` })),
    ...groups.groups
      .filter((group) => !SKIPPED_GROUPS.has(group.name))
      .map(({ preferredVersion: { groupVersion } }) => ({
        groupVersion,
        prefix: `/apis/${groupVersion}`,
      })),
  ];
  const lists = await Promise.all(groupVersions.map(async ({ groupVersion, prefix }) => {
    const list = await client.get<{ resources: ApiResource[] }>(prefix);
    return list.resources
      .filter((resource) =>
        resource.namespaced && !resource.name.includes("/") && resource.verbs.includes("list") &&
        !SKIPPED_RESOURCES.has(resource.name)
      )
      .map((resource) => ({ groupVersion, prefix, resource }));
  }));
  return lists.flat();
}

async function foreignIn(
  client: KubeClient,
  namespace: string,
  { groupVersion, prefix, resource }: Collection,
  ours: (object: KubeObject) => boolean,
): Promise<string[]> {
  let items: KubeObject[];
  try {
    const path = `${prefix}/namespaces/${encodeURIComponent(namespace)}/${resource.name}`;
    items = (await client.list(path)).items;
  } catch (error) {
    if (!(error instanceof KubeApiError)) throw error;
    // An API that went away between discovery and the list holds nothing.
    if (error.code === 404) return [];
    return [`${resource.name} in ${groupVersion} (cannot list: ${error.reason ?? error.code})`];
  }
  return items
    .filter((item) => !ours(item) && !(item.metadata?.ownerReferences as unknown[])?.length)
    .map((item) => `${resource.kind}/${item.metadata?.name}`)
    .filter((name) => !BUILT_IN_OBJECTS.has(name));
}
