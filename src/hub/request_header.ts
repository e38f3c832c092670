/**
 * The host API server's front proxy, as `kube-system/extension-apiserver-authentication`
 * describes it: the CA of its client certificate, the names that certificate may carry, and the
 * headers carrying the caller it vouches for (X-Remote-User, X-Remote-Group, X-Remote-Extra-*).
 * Pure: parsing the ConfigMap, checking the certificate's name, reading the caller.
 * https://kubernetes.io/docs/tasks/extend-kubernetes/configure-aggregation-layer/#authentication-flow
 */
import type { UserInfo } from "./user_access.ts";

/** Namespace and name of the ConfigMap kube-apiserver publishes its front-proxy settings in. */
export const REQUEST_HEADER_CONFIGMAP = {
  namespace: "kube-system",
  name: "extension-apiserver-authentication",
} as const;

/** How the front proxy authenticates itself and names the caller. */
export interface RequestHeaderConfig {
  /** CA bundle (PEM) that signs the front proxy's client certificate. */
  caPem: string;
  /** Common names the client certificate may have; empty allows any signed by the CA. */
  allowedNames: string[];
  /** Header names, lower case. */
  usernameHeaders: string[];
  uidHeaders: string[];
  groupHeaders: string[];
  extraHeaderPrefixes: string[];
}

/** Headers that name a caller even when the ConfigMap names others: never passed on. */
const USUAL_PREFIX = "x-remote-";

/** Reads the ConfigMap's data; an Error names the key that is missing or malformed. */
export function parseRequestHeaderConfig(
  data: Record<string, string> | undefined,
): RequestHeaderConfig | Error {
  const where = `ConfigMap ${REQUEST_HEADER_CONFIGMAP.namespace}/${REQUEST_HEADER_CONFIGMAP.name}`;
  const caPem = data?.["requestheader-client-ca-file"]?.trim();
  if (!caPem || !caPem.includes("-----BEGIN CERTIFICATE-----")) {
    return new Error(
      `${where} has no "requestheader-client-ca-file": start kube-apiserver with --requestheader-client-ca-file to use the aggregated entrance`,
    );
  }
  const lists: Record<string, string[]> = {};
  for (const key of ["allowed-names", "username-headers", "uid-headers", "group-headers"]) {
    const list = parseList(data?.[`requestheader-${key}`]);
    if (list instanceof Error) return new Error(`${where}: "requestheader-${key}" ${list.message}`);
    lists[key] = list;
  }
  const prefixes = parseList(data?.["requestheader-extra-headers-prefix"]);
  if (prefixes instanceof Error) {
    return new Error(`${where}: "requestheader-extra-headers-prefix" ${prefixes.message}`);
  }
  const lower = (names: string[] | undefined) => (names ?? []).map((n) => n.toLowerCase());
  const usernameHeaders = lower(lists["username-headers"]);
  if (usernameHeaders.length === 0) {
    return new Error(`${where} names no "requestheader-username-headers"`);
  }
  return {
    caPem: `${caPem}\n`,
    allowedNames: lists["allowed-names"] ?? [],
    usernameHeaders,
    uidHeaders: lower(lists["uid-headers"]),
    groupHeaders: lower(lists["group-headers"]),
    extraHeaderPrefixes: lower(prefixes),
  };
}

/** A JSON list of strings, as kube-apiserver writes them; absent or empty is an empty list. */
function parseList(text: string | undefined): string[] | Error {
  if (text === undefined || text.trim() === "") return [];
  try {
    const value = JSON.parse(text);
    if (Array.isArray(value) && value.every((item) => typeof item === "string")) {
      return value.filter(Boolean);
    }
  } catch {
    // Reported below.
  }
  return new Error("is not a JSON list of strings");
}

/**
 * True when a verified front-proxy certificate's common name is allowed (kube-apiserver checks
 * the common name only, and allows any when the list is empty).
 */
export function isAllowedFrontProxyName(
  commonName: string | undefined,
  allowedNames: string[],
): boolean {
  if (allowedNames.length === 0) return true;
  return commonName !== undefined && allowedNames.includes(commonName);
}

/**
 * The caller the front proxy names, from the raw header list (repeated group headers stay
 * separate groups); undefined when no username header has a value.
 */
export function userFromRequestHeaders(
  rawHeaders: string[],
  config: RequestHeaderConfig,
): UserInfo | undefined {
  const values = (names: string[]) => {
    const found: string[] = [];
    for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
      if (names.includes(rawHeaders[i]!.toLowerCase()) && rawHeaders[i + 1]) {
        found.push(rawHeaders[i + 1]!);
      }
    }
    return found;
  };
  // The first listed header that has a value names the user, as kube-apiserver reads it.
  const username = config.usernameHeaders.map((name) => values([name])[0]).find(Boolean);
  if (!username) return undefined;
  const uid = config.uidHeaders.map((name) => values([name])[0]).find(Boolean);
  const groups = values(config.groupHeaders);
  const extra = extrasFrom(rawHeaders, config.extraHeaderPrefixes);
  return {
    username,
    ...(uid ? { uid } : {}),
    ...(groups.length > 0 ? { groups } : {}),
    ...(Object.keys(extra).length > 0 ? { extra } : {}),
  };
}

/** Extra keys follow the prefix, lower case and percent-decoded (keys may hold "/"). */
function extrasFrom(rawHeaders: string[], prefixes: string[]): Record<string, string[]> {
  const extra: Record<string, string[]> = {};
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    const prefix = prefixes.find((p) => name.startsWith(p) && name.length > p.length);
    if (!prefix) continue;
    let key: string;
    try {
      key = decodeURIComponent(name.slice(prefix.length));
    } catch {
      continue;
    }
    (extra[key] ??= []).push(rawHeaders[i + 1]!);
  }
  return extra;
}

/**
 * True for a header that names a caller for a front proxy: the configured ones and, whatever
 * the configuration, every X-Remote-* header. The hub never passes them on.
 */
export function isRequestHeaderName(
  lowerName: string,
  config: RequestHeaderConfig | undefined,
): boolean {
  if (lowerName.startsWith(USUAL_PREFIX)) return true;
  if (!config) return false;
  return config.usernameHeaders.includes(lowerName) || config.uidHeaders.includes(lowerName) ||
    config.groupHeaders.includes(lowerName) ||
    config.extraHeaderPrefixes.some((prefix) => lowerName.startsWith(prefix));
}
