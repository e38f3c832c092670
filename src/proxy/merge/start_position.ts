/**
 * Where a merged read starts in every cluster, from the client's resourceVersion (pure): a
 * merged version (`mca1.…`, from a merged LIST or a bookmark) holds the position itself; a plain
 * version (an object's, from a merged watch event) is looked up in the PositionMemory.
 */
import { decodeMergedVersion, isMergedVersion, type VersionVector } from "./merged_version.ts";
import type { PositionMemory } from "./position_memory.ts";

/** Where to start. */
export type StartPosition =
  /** Each cluster from its version; a cluster without one has given the client nothing yet. */
  | { type: "at"; versions: VersionVector }
  /** The latest state ("0": any state will do, the clusters may answer from their caches). */
  | { type: "latest"; any: boolean }
  /** A version the proxy cannot resolve where nothing else will do: 410 Gone. */
  | { type: "expired"; message: string };

/** A damaged merged version: the client gets a 400. */
export class DamagedVersionError extends Error {}

/**
 * The start of a read on `scope` (the path). `lowerBound` says whether the version only bounds
 * how old the answer may be (a LIST without `resourceVersionMatch=Exact`, a watch-list): then a
 * version the proxy cannot resolve is served with the latest state, which is never older.
 */
export function startPosition(
  params: URLSearchParams,
  positions: PositionMemory,
  options: { scope: string; lowerBound: boolean },
): StartPosition {
  const given = params.get("resourceVersion") ?? "";
  if (given === "") return { type: "latest", any: false };
  if (given === "0") return { type: "latest", any: true };
  if (isMergedVersion(given)) {
    try {
      return { type: "at", versions: decodeMergedVersion(given) };
    } catch (error) {
      throw new DamagedVersionError((error as Error).message);
    }
  }
  const versions = positions.resolve(options.scope, given);
  if (versions) return { type: "at", versions };
  if (options.lowerBound) return { type: "latest", any: false };
  return {
    type: "expired",
    message: `too old resource version: "${given}" is not a version this proxy can still ` +
      `resolve on ${options.scope}`,
  };
}

/**
 * The collection a watch path reads: without the deprecated `/watch/` segment
 * (`/api/v1/watch/namespaces/ns/pods` is `/api/v1/namespaces/ns/pods`), so that versions are
 * remembered per collection and a LIST of it can be asked.
 */
export function collectionPath(pathname: string): string {
  return pathname.replace(/^(\/api\/[^/]+|\/apis\/[^/]+\/[^/]+)\/watch(?=\/)/, "$1");
}
