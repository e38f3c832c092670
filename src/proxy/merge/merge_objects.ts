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

/** One row of a Table. */
export interface TableRow {
  cells: unknown[];
  object?: KubeObject;
  [key: string]: unknown;
}

/** The column a merged Table gets, right after Name, in LIST and WATCH alike. */
const CLUSTER_COLUMN = {
  name: "Cluster",
  type: "string",
  format: "",
  description: "The cluster this object is in (mca merged read)",
  priority: 0,
};

/** The columns with the Cluster column inserted after Name, and its index. */
export function withClusterColumn(columns: unknown[]): { columns: unknown[]; at: number } {
  const at = columns.findIndex((c) => (c as { name?: string }).name === "Name") + 1;
  const result = [...columns];
  result.splice(at, 0, CLUSTER_COLUMN);
  return { columns: result, at };
}

/** The row with its cluster's cell at `at`, and its object (if any) marked. */
export function withClusterCell(row: TableRow, at: number, cluster: string): TableRow {
  const cells = [...row.cells];
  cells.splice(at, 0, cluster);
  if (row.object) markSource(row.object, cluster);
  return { ...row, cells };
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
    const { columns, at } = withClusterColumn(first.columnDefinitions ?? []);
    const rows = answers.flatMap(({ cluster, body }) =>
      (body.rows ?? []).map((row) => withClusterCell(row, at, cluster))
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
