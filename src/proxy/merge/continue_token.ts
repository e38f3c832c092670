/**
 * The continue token of a merged, paginated LIST: which cluster the walk is in, that cluster's
 * own continue token, and the versions of the clusters already listed (the last page reports
 * them all as the merged resourceVersion).
 */
import { fromBase64Url, toBase64Url, type VersionVector } from "./merged_version.ts";

/** Where a merged list walk stands. */
export interface MergedContinue {
  /** Index into the merged route's clusters, in their configured (stable) order. */
  index: number;
  /** The cluster's own continue token ("" to start that cluster). */
  token: string;
  versions: VersionVector;
  /**
   * Where the first page asked every cluster to be listed (its resourceVersion, with
   * `resourceVersionMatch`), so that clusters reached on later pages are listed there too
   * (the pages of one list are one snapshot per cluster). Absent: as they are when reached.
   */
  start?: { versions: VersionVector; match: string };
}

const PREFIX = "mca1.";

/** Encodes the walk position. */
export function encodeContinue(position: MergedContinue): string {
  const { index, token, versions, start } = position;
  return PREFIX +
    toBase64Url(
      JSON.stringify([index, token, versions, ...(start ? [start.versions, start.match] : [])]),
    );
}

/** Decodes a continue token from a client; an error says why it cannot be used. */
export function decodeContinue(text: string, clusterCount: number): MergedContinue {
  const damaged = new Error("the continue token was not issued by this proxy or is damaged");
  if (!text.startsWith(PREFIX)) throw damaged;
  let value: unknown;
  try {
    value = JSON.parse(fromBase64Url(text.slice(PREFIX.length)));
  } catch {
    throw damaged;
  }
  if (!Array.isArray(value) || (value.length !== 3 && value.length !== 5)) throw damaged;
  const [index, token, versions, startVersions, match] = value as unknown[];
  if (
    typeof index !== "number" || !Number.isInteger(index) || index < 0 ||
    index >= clusterCount || typeof token !== "string" || !isVector(versions) ||
    (value.length === 5 && (!isVector(startVersions) || typeof match !== "string"))
  ) {
    throw damaged;
  }
  return {
    index,
    token,
    versions,
    ...(isVector(startVersions)
      ? { start: { versions: startVersions, match: match as string } }
      : {}),
  };
}

function isVector(value: unknown): value is VersionVector {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    Object.values(value).every((version) => typeof version === "string");
}
