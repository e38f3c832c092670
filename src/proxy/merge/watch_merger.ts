/**
 * The events of a merged WATCH (pure): each cluster's event lines in, the merged stream's bytes
 * out. Objects are marked with their cluster and otherwise passed byte for byte, with their
 * cluster's own resourceVersion (the one a LIST and a GET show). The merger follows where every
 * cluster's stream stands and remembers, for each version it lets through, that position in
 * every cluster (PositionMemory), so that a client resuming from it misses nothing. Bookmarks
 * carry the whole position as a merged version (`mca1.…`), which needs no memory. Tables get
 * the Cluster column, as in a merged LIST, and their column definitions only when they change.
 */
import { concatBytes } from "../../bytes.ts";
import { type Marks, marksFor } from "./mark_object.ts";
import {
  INITIAL_EVENTS_END,
  type KubeObject,
  type TableRow,
  type WatchEvent,
  withClusterCell,
  withClusterColumn,
} from "./merge_objects.ts";
import { encodeMergedVersion, laterVersion, type VersionVector } from "./merged_version.ts";
import type { PositionMemory } from "./position_memory.ts";
import { markEvent } from "./watch_event.ts";

/** How one merged watch behaves. */
export interface WatchMergerOptions {
  /** The client asked for watch-list: the initial phase ends once, after every cluster's. */
  watchList: boolean;
  /** The watched path: versions are remembered per path. */
  scope: string;
  positions: PositionMemory;
}

/** What to send for one line: bytes (or nothing), and whether the merged watch ends with it. */
export interface MergedOutput {
  bytes?: Uint8Array;
  end?: boolean;
}

const NEWLINE = new Uint8Array([10]);
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Merges the event streams of several clusters into one. */
export class WatchMerger {
  /** Where each cluster's stream stands (absent: not known yet). */
  readonly versions: VersionVector = {};
  readonly #options: WatchMergerOptions;
  readonly #marks = new Map<string, Marks>();
  /** Watch-list: the clusters whose initial events have not ended yet. */
  readonly #initial = new Set<string>();
  #initialOver = false;
  /** Where each cluster's Table rows get the cluster cell. */
  readonly #clusterAt = new Map<string, number>();
  /** The column definitions last sent (JSON), so they are sent again only when they change. */
  #columns: string | undefined;

  constructor(options: WatchMergerOptions) {
    this.#options = options;
  }

  /**
   * A cluster's stream joins at `position` (undefined: known from its first event). A cluster
   * that joins after the watch-list initial phase ended takes no part in it.
   */
  join(cluster: string, position: string | undefined): void {
    this.#marks.set(cluster, marksFor(cluster));
    if (position) this.versions[cluster] = position;
    if (this.#options.watchList && !this.#initialOver) this.#initial.add(cluster);
  }

  /** What to send for one event line of `cluster`; throws on a line that is not an event. */
  accept(cluster: string, line: Uint8Array): MergedOutput {
    const event = markEvent(line, this.#marks.get(cluster) ?? marksFor(cluster));
    if (event.type === "ERROR") return { bytes: concatBytes([line, NEWLINE]), end: true };
    if (event.type === "BOOKMARK") return this.#bookmark(cluster, line);
    const object = event.object;
    if (!object) throw new Error(`a ${event.type} watch event without an object`);
    if (object.kind === "Table") return this.#table(cluster, line);
    this.#advance(cluster, object.resourceVersion);
    this.#issue(object.resourceVersion);
    return { bytes: concatBytes([...event.pieces, NEWLINE]) };
  }

  /** True when every cluster's position is known: only then can a version be resolved later. */
  complete(): boolean {
    for (const cluster of this.#marks.keys()) if (!this.versions[cluster]) return false;
    return true;
  }

  #advance(cluster: string, version: string | undefined): void {
    const later = laterVersion(this.versions[cluster], version ?? "");
    if (later) this.versions[cluster] = later;
  }

  #issue(version: string | undefined): void {
    if (version && this.complete()) {
      this.#options.positions.record(this.#options.scope, version, this.versions);
    }
  }

  #bookmark(cluster: string, line: Uint8Array): MergedOutput {
    const event = JSON.parse(decoder.decode(line)) as WatchEvent;
    const carriers = metadataOf(event.object);
    this.#advance(cluster, carriers[0]?.resourceVersion);
    const ends = carriers[0]?.annotations?.[INITIAL_EVENTS_END] === "true";
    let endsMerged = false;
    if (ends && this.#initial.delete(cluster)) {
      // The initial phase ends once, after every cluster's initial events.
      if (this.#initial.size > 0) return {};
      endsMerged = true;
      this.#initialOver = true;
    }
    if (!this.complete()) return {};
    const merged = encodeMergedVersion(this.versions);
    for (const metadata of carriers) {
      metadata.resourceVersion = merged;
      if (!endsMerged && metadata.annotations) delete metadata.annotations[INITIAL_EVENTS_END];
    }
    return { bytes: encoder.encode(JSON.stringify(event) + "\n") };
  }

  #table(cluster: string, line: Uint8Array): MergedOutput {
    const event = JSON.parse(decoder.decode(line)) as WatchEvent;
    const table = event.object as KubeObject & { columnDefinitions?: unknown[]; rows?: TableRow[] };
    if (table.columnDefinitions?.length) {
      const { columns, at } = withClusterColumn(table.columnDefinitions);
      this.#clusterAt.set(cluster, at);
      const text = JSON.stringify(columns);
      // kubectl prints a header for each new set of columns: the same set goes out once.
      table.columnDefinitions = text === this.#columns ? [] : columns;
      this.#columns = text;
    }
    const at = this.#clusterAt.get(cluster) ?? 1;
    table.rows = (table.rows ?? []).map((row) => withClusterCell(row, at, cluster));
    const versions = [
      ...table.rows.map((row) => row.object?.metadata?.resourceVersion),
      table.metadata?.resourceVersion,
    ].filter((version): version is string => !!version);
    for (const version of versions) this.#advance(cluster, version);
    for (const version of new Set(versions)) this.#issue(version);
    return { bytes: encoder.encode(JSON.stringify(event) + "\n") };
  }
}

/** The metadata a bookmark carries its version in: the object's, or a Table's and its rows'. */
function metadataOf(object: KubeObject): NonNullable<KubeObject["metadata"]>[] {
  const rows = (object as { rows?: TableRow[] }).rows ?? [];
  const result = [
    ...rows.map((row) => row.object?.metadata),
    object.metadata,
  ].filter((metadata): metadata is NonNullable<KubeObject["metadata"]> => !!metadata);
  return result;
}
