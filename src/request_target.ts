/**
 * Which request targets the proxy, the hub and the agent forward, and how a forwarded path is put
 * below a server's path prefix (a cluster at `https://h/k8s/clusters/c-1`). Pure. Only the origin
 * form of RFC 9112 §3.2.1 passes, in visible ASCII, without dot segments, encoded slashes or
 * backslashes in its path (raw or percent-encoded, any case): URL parsers and servers behind a
 * prefix resolve those, and a path that climbs out of its prefix reaches another cluster, or
 * the server's own API, with this cluster's credentials.
 */

/** A request target the proxies refuse to forward (a 400). */
export class RequestTargetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RequestTargetError";
  }
}

const VISIBLE_ASCII = /^[\x21-\x7e]*$/;
/** Anything in a path that needs the segment-by-segment look (most paths have none). */
const SUSPECT = /[.%\\]/;
const BAD_ESCAPE = /%(?![0-9a-fA-F]{2})/;
const ENCODED_SEPARATOR = /%2f|%5c|\\/i;

/** Why a request target cannot be forwarded, or undefined when it can. */
export function requestTargetError(target: string): string | undefined {
  if (!target.startsWith("/")) {
    return `the request target must be a path starting with "/", not "${printable(target)}"`;
  }
  if (!VISIBLE_ASCII.test(target)) {
    return "the request target may only hold visible ASCII characters (no spaces, control " +
      "characters or non-ASCII bytes)";
  }
  const question = target.indexOf("?");
  const path = question < 0 ? target : target.slice(0, question);
  if (!SUSPECT.test(path)) return undefined;
  if (BAD_ESCAPE.test(path)) return "the request path has a malformed percent-encoding";
  if (ENCODED_SEPARATOR.test(path)) {
    return "the request path may not hold encoded slashes or backslashes";
  }
  for (const segment of path.split("/")) {
    const plain = segment.replace(/%2e/gi, ".");
    if (plain === "." || plain === "..") {
      return 'the request path may not hold "." or ".." segments (also percent-encoded)';
    }
  }
  return undefined;
}

/** The path to send to a server whose URL has `prefix` as its path; throws RequestTargetError. */
export function pathUnderPrefix(prefix: string, target: string): string {
  const error = requestTargetError(target);
  if (error) throw new RequestTargetError(error);
  return prefix.replace(/\/+$/, "") + target;
}

/** A target shortened to printable ASCII for an error message. */
function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, "?").slice(0, 80);
}
