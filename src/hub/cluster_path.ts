/**
 * `/clusters/<name>/<rest>`: which member a request is for and the path to send there. Pure.
 * Nothing may escape `<name>`: encoded slashes, dot segments and empty segments are refused.
 */

/** A request for a member cluster. */
export interface ClusterTarget {
  cluster: string;
  /** The path below the member's API root, starting with "/", with the query. */
  path: string;
}

const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** True for a DNS-1123 label: what a member cluster's name must be. */
export function isClusterName(name: string): boolean {
  return name.length <= 63 && NAME.test(name);
}

/** Parses a request target; undefined when it is not under /clusters/, an Error when it is malformed. */
export function parseClusterTarget(target: string): ClusterTarget | Error | undefined {
  const question = target.indexOf("?");
  const rawPath = question < 0 ? target : target.slice(0, question);
  const query = question < 0 ? "" : target.slice(question);
  if (!rawPath.startsWith("/clusters/")) return undefined;
  const segments = rawPath.slice("/clusters/".length).split("/");
  const name = segments[0] ?? "";
  if (!isClusterName(name)) {
    return new Error(`Invalid cluster name in path: "${safe(name)}" (a DNS label is expected)`);
  }
  const rest = segments.slice(1);
  for (const segment of rest) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      return new Error("Invalid path: bad percent-encoding");
    }
    if (decoded === "." || decoded === ".." || decoded.includes("/") || decoded.includes("\\")) {
      return new Error("Invalid path: dot segments and encoded slashes are not allowed");
    }
  }
  if (rest.slice(0, -1).some((segment) => segment === "")) {
    return new Error("Invalid path: empty segments (double slashes) are not allowed");
  }
  return { cluster: name, path: "/" + rest.join("/") + query };
}

function safe(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, "?").slice(0, 80);
}
