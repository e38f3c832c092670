/**
 * The impersonation a request asks for in its `Impersonate-*` headers, read as kube-apiserver's
 * impersonation filter reads them (k8s.io/apiserver endpoints/filters/impersonation.go): which
 * SubjectAccessReviews (verb `impersonate`) the caller must pass, and the identity it then acts
 * as. Pure: the hub runs the reviews (user_access.ts).
 * https://kubernetes.io/docs/reference/access-authn-authz/authentication/#user-impersonation
 */
import type { UserInfo } from "./user_access.ts";

/** One thing the caller asks to act as: the resource attributes of its review. */
export interface ImpersonationCheck {
  group: "" | "authentication.k8s.io";
  resource: "users" | "groups" | "serviceaccounts" | "uids" | "userextras";
  name: string;
  namespace?: string;
  /** The extra's key, for `userextras`. */
  subresource?: string;
}

/** What the headers ask: nothing, an identity behind its checks, or a request kube-apiserver refuses. */
export type RequestedImpersonation =
  | { kind: "none" }
  | { kind: "impersonate"; checks: ImpersonationCheck[]; user: UserInfo }
  | { kind: "invalid"; message: string };

const PREFIX = "impersonate-";
const EXTRA_PREFIX = "impersonate-extra-";
const SERVICE_ACCOUNT_PREFIX = "system:serviceaccount:";
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** True for the headers of impersonation (any case), which only the hub's checks let through. */
export function isImpersonationHeader(name: string): boolean {
  return name.toLowerCase().startsWith(PREFIX);
}

/**
 * Reads the `Impersonate-*` headers from node's raw list (names any case, each line one value,
 * so repeated Impersonate-Group lines stay separate groups). As kube-apiserver: the first
 * Impersonate-User and Impersonate-Uid count, an empty one is absent; groups, extras or a uid
 * without a user are refused; extra keys are lower-cased, then percent-decoded.
 */
export function requestedImpersonation(rawHeaders: readonly string[]): RequestedImpersonation {
  const values = impersonationValues(rawHeaders);
  if (values.size === 0) return { kind: "none" };
  const username = values.get("impersonate-user")?.[0] ?? "";
  const uid = values.get("impersonate-uid")?.[0] ?? "";
  const groups = values.get("impersonate-group");
  const extra = extrasOf(values);
  const checks: ImpersonationCheck[] = [];
  if (username) checks.push(userCheck(username));
  for (const group of groups ?? []) checks.push({ group: "", resource: "groups", name: group });
  for (const [key, list] of Object.entries(extra)) {
    for (const value of list) {
      checks.push({
        group: "authentication.k8s.io",
        resource: "userextras",
        subresource: key,
        name: value,
      });
    }
  }
  if (uid) checks.push({ group: "authentication.k8s.io", resource: "uids", name: uid });
  if (!username) {
    if (checks.length === 0) return { kind: "none" };
    return {
      kind: "invalid",
      message: "Impersonate-Group, Impersonate-Extra-* and Impersonate-Uid need Impersonate-User",
    };
  }
  const user: UserInfo = {
    username,
    groups: impersonatedGroups(username, groups),
    ...(uid ? { uid } : {}),
    ...(Object.keys(extra).length > 0 ? { extra } : {}),
  };
  return { kind: "impersonate", checks, user };
}

/** The values of each impersonation header, by lower-cased name, in the order sent. */
function impersonationValues(rawHeaders: readonly string[]): Map<string, string[]> {
  const values = new Map<string, string[]>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    if (!name.startsWith(PREFIX)) continue;
    const list = values.get(name) ?? [];
    list.push(rawHeaders[i + 1]!);
    values.set(name, list);
  }
  return values;
}

/** The extras by key: the header name's rest, lower-cased and then percent-decoded. */
function extrasOf(values: Map<string, string[]>): Record<string, string[]> {
  const extra: Record<string, string[]> = {};
  for (const [name, list] of values) {
    if (!name.startsWith(EXTRA_PREFIX)) continue;
    const key = unescapeExtraKey(name.slice(EXTRA_PREFIX.length));
    (extra[key] ??= []).push(...list);
  }
  return extra;
}

/**
 * Go's url.PathUnescape: `%XX` to bytes, a malformed escape leaves the key as sent; bytes that
 * are not UTF-8 become U+FFFD, as they do when Go encodes the key into a review's JSON.
 */
export function unescapeExtraKey(encoded: string): string {
  if (/%(?![0-9a-fA-F]{2})/.test(encoded)) return encoded;
  const bytes: number[] = [];
  const encoder = new TextEncoder();
  for (let i = 0; i < encoded.length; i++) {
    if (encoded[i] === "%") {
      bytes.push(parseInt(encoded.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      const code = encoded.codePointAt(i)!;
      if (code > 0xffff) i++;
      bytes.push(...encoder.encode(String.fromCodePoint(code)));
    }
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

/** A ServiceAccount's name (checked as `serviceaccounts`), else a user's. */
function userCheck(username: string): ImpersonationCheck {
  const account = serviceAccountOf(username);
  if (account) return { group: "", resource: "serviceaccounts", ...account };
  return { group: "", resource: "users", name: username };
}

/**
 * The namespace and name of a ServiceAccount user `system:serviceaccount:<ns>:<name>`, as
 * kube-apiserver splits it (a DNS label and a DNS subdomain), else undefined.
 */
export function serviceAccountOf(
  username: string,
): { namespace: string; name: string } | undefined {
  if (!username.startsWith(SERVICE_ACCOUNT_PREFIX)) return undefined;
  const parts = username.slice(SERVICE_ACCOUNT_PREFIX.length).split(":");
  if (parts.length !== 2) return undefined;
  const [namespace, name] = parts as [string, string];
  if (namespace.length > 63 || !DNS_LABEL.test(namespace)) return undefined;
  if (name.length > 253 || !name.split(".").every((label) => DNS_LABEL.test(label))) {
    return undefined;
  }
  return { namespace, name };
}

/**
 * The impersonated user's groups: the requested ones, or a ServiceAccount's own when none were
 * requested; plus `system:authenticated` (`system:unauthenticated` for `system:anonymous`)
 * unless either is already there.
 */
function impersonatedGroups(username: string, requested: string[] | undefined): string[] {
  const groups = [...(requested ?? [])];
  const account = requested === undefined ? serviceAccountOf(username) : undefined;
  if (account) groups.push("system:serviceaccounts", `system:serviceaccounts:${account.namespace}`);
  if (username === "system:anonymous") {
    if (!groups.includes("system:unauthenticated")) groups.push("system:unauthenticated");
  } else if (
    !groups.includes("system:authenticated") && !groups.includes("system:unauthenticated")
  ) {
    groups.push("system:authenticated");
  }
  return groups;
}
