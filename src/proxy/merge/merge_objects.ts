/**
 * Combining what several clusters answered into one answer (pure): lists, Tables and watch
 * events, each object marked with the cluster it came from and carrying merged versions.
 */
import { encodeMergedVersion, type VersionVector } from "./merged_version.ts";

/** The annotation naming the cluster an object of a merged read came from. */
export const SOURCE_ANNOTATION = "mca.k8s.io/cluster";
/** The annotation that marks the bookmark ending a watch's initial events (watch-list). */
export const INITIAL_EVENTS_END = "k8s.io/initial-events-end";

/** An object as far as merging cares. */
export interface KubeObject {
  kind?: string;
  apiVersion?: string;
  metadata?: {
    resourceVersion?: string;
    annotations?: Record<string, string>;
    continue?: string;
    remainingItemCount?: number;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/** A list or a Table as one cluster answered it. */
export interface ClusterAnswer {
  cluster: string;
  body: KubeObject & { items?: KubeObject[]; rows?: TableRow[]; columnDefinitions?: unknown[] };
}

interface TableRow {
  cells: unknown[];
  object?: KubeObject;
  [key: string]: unknown;
}

/** Marks an object with its cluster (in place). */
export function markSource(object: KubeObject, cluster: string): void {
  object.metadata ??= {};
  object.metadata.annotations = { ...object.metadata.annotations, [SOURCE_ANNOTATION]: cluster };
}

/**
 * One list (or Table) from the clusters' answers, in the given order. `continueToken` is the
 * merged one (absent on the last page); the Table gets a "Cluster" column after the name.
 */
export function combineAnswers(
  answers: ClusterAnswer[],
  versions: VersionVector,
  continueToken: string | undefined,
): KubeObject {
  const first = answers[0]?.body ?? {};
  const metadata = {
    resourceVersion: encodeMergedVersion(versions),
    ...(continueToken ? { continue: continueToken } : {}),
  };
  if (first.kind === "Table") {
    const columns = [...(first.columnDefinitions ?? [])];
    const nameAt = columns.findIndex((c) => (c as { name?: string }).name === "Name");
    const clusterAt = nameAt + 1;
    columns.splice(clusterAt, 0, {
      name: "Cluster",
      type: "string",
      format: "",
      description: "The cluster this object is in (mca merged read)",
      priority: 0,
    });
    const rows = answers.flatMap(({ cluster, body }) =>
      (body.rows ?? []).map((row) => {
        const cells = [...row.cells];
        cells.splice(clusterAt, 0, cluster);
        if (row.object) markSource(row.object, cluster);
        return { ...row, cells };
      })
    );
    return { ...first, metadata, columnDefinitions: columns, rows };
  }
  const items = answers.flatMap(({ cluster, body }) =>
    (body.items ?? []).map((item) => {
      markSource(item, cluster);
      return item;
    })
  );
  return { ...first, metadata, items };
}

/** A watch event as the API server sends it. */
export interface WatchEvent {
  type: string;
  object: KubeObject;
}

/**
 * Rewrites one cluster's watch event for the merged stream: the cluster's version goes into
 * the vector (in place) and the object carries the merged version and its source. ERROR
 * events (a Status) are passed as they are.
 */
export function translateEvent(
  event: WatchEvent,
  cluster: string,
  versions: VersionVector,
): WatchEvent {
  if (event.type === "ERROR") return event;
  const version = event.object.metadata?.resourceVersion;
  if (version) versions[cluster] = version;
  const object: KubeObject = {
    ...event.object,
    metadata: { ...event.object.metadata, resourceVersion: encodeMergedVersion(versions) },
  };
  if (event.type !== "BOOKMARK") markSource(object, cluster);
  return { type: event.type, object };
}

/** True for the bookmark that ends a cluster's initial events. */
export function endsInitialEvents(event: WatchEvent): boolean {
  return event.type === "BOOKMARK" &&
    event.object.metadata?.annotations?.[INITIAL_EVENTS_END] === "true";
}

/** Without the initial-events-end mark (a cluster's own end, before the others are done). */
export function withoutInitialEventsEnd(event: WatchEvent): WatchEvent {
  const { [INITIAL_EVENTS_END]: _, ...annotations } = event.object.metadata?.annotations ?? {};
  return {
    type: event.type,
    object: { ...event.object, metadata: { ...event.object.metadata, annotations } },
  };
}

/**
 * Objects with the same namespace and name in several clusters, as "ns/name in a, b": clients
 * that key their caches by namespace/name (informers) can hold only one of them.
 */
export function sameNamesAcrossClusters(lists: { cluster: string; names: string[] }[]): string[] {
  const where = new Map<string, Set<string>>();
  for (const { cluster, names } of lists) {
    for (const key of names) where.set(key, (where.get(key) ?? new Set()).add(cluster));
  }
  return [...where].filter(([, clusters]) => clusters.size > 1).map(([key, clusters]) =>
    `${key} in ${[...clusters].join(", ")}`
  );
}
