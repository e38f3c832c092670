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
}

const PREFIX = "mca1.";

/** Encodes the walk position. */
export function encodeContinue(position: MergedContinue): string {
  return PREFIX + toBase64Url(JSON.stringify([position.index, position.token, position.versions]));
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
  if (!Array.isArray(value) || value.length !== 3) throw damaged;
  const [index, token, versions] = value as [unknown, unknown, unknown];
  if (
    typeof index !== "number" || !Number.isInteger(index) || index < 0 ||
    index >= clusterCount || typeof token !== "string" || typeof versions !== "object" ||
    versions === null || Array.isArray(versions)
  ) {
    throw damaged;
  }
  return { index, token, versions: versions as VersionVector };
}
