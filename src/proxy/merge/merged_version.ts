/**
 * A merged resourceVersion: every cluster's own version in one opaque string, so that a client
 * can resume a watch (or page a list) in every cluster at once. Clients must treat resource
 * versions as opaque; ours are not decimal numbers, so a client that compares versions as
 * numbers (Kubernetes 1.35's comparable resource versions) finds them not comparable and
 * keeps the opaque behaviour, which is what the API contract promises for such strings.
 */

/** Cluster name → that cluster's resourceVersion. */
export type VersionVector = Record<string, string>;

const PREFIX = "mca1.";

/** Encodes a vector (clusters in name order, so equal vectors give equal strings). */
export function encodeMergedVersion(vector: VersionVector): string {
  const pairs = Object.keys(vector).sort().map((cluster) => [cluster, vector[cluster]!]);
  return PREFIX + toBase64Url(JSON.stringify(pairs));
}

/** True for strings encodeMergedVersion made. */
export function isMergedVersion(text: string): boolean {
  return text.startsWith(PREFIX);
}

/** Decodes a merged version; an error names what is wrong (the client gets a 400). */
export function decodeMergedVersion(text: string): VersionVector {
  if (!isMergedVersion(text)) throw new Error(`"${text}" is not a merged resourceVersion`);
  let pairs: unknown;
  try {
    pairs = JSON.parse(fromBase64Url(text.slice(PREFIX.length)));
  } catch {
    throw new Error("the merged resourceVersion is damaged");
  }
  if (
    !Array.isArray(pairs) ||
    !pairs.every((p) =>
      Array.isArray(p) && p.length === 2 && typeof p[0] === "string" && typeof p[1] === "string"
    )
  ) {
    throw new Error("the merged resourceVersion is damaged");
  }
  return Object.fromEntries(pairs as [string, string][]);
}

/** base64url without padding, from UTF-8 text. */
export function toBase64Url(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** UTF-8 text from base64url (padding optional). */
export function fromBase64Url(text: string): string {
  const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
  return new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
}

const DECIMAL = /^(0|[1-9][0-9]*)$/;

/**
 * Orders two versions of one cluster when both are decimal (kube-apiserver's versions are etcd
 * revisions; Kubernetes 1.35 makes comparing them official); undefined when they cannot be
 * compared (an aggregated API's own versions, say).
 */
export function compareVersions(a: string, b: string): number | undefined {
  if (a === b) return 0;
  if (!DECIMAL.test(a) || !DECIMAL.test(b)) return undefined;
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : 1;
}

/**
 * Where a cluster's stream stands after an event with version `next`: the later of the two, or
 * `next` when they cannot be compared. The objects of a watch's initial (synthetic) events
 * carry their own, older versions; taking the later keeps the position from going back.
 */
export function laterVersion(current: string | undefined, next: string): string | undefined {
  if (next === "" || current === undefined) return next || current;
  const order = compareVersions(current, next);
  return order !== undefined && order > 0 ? current : next;
}
