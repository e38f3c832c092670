/**
 * What a Kubernetes API request is about, from its method and URL, as the API server's own
 * RequestInfoFactory decides it (k8s.io/apiserver/pkg/endpoints/request/requestinfo.go). Pure.
 */

import { queryFlag } from "../forward/mod.ts";

/** The Kubernetes verbs. */
export type Verb =
  | "get"
  | "list"
  | "watch"
  | "create"
  | "update"
  | "patch"
  | "delete"
  | "deletecollection"
  | "proxy"
  | "connect";

/** A classified request. */
export interface RequestInfo {
  /** False for /api, /apis, /version, /openapi/..., /healthz and other non-resource paths. */
  isResourceRequest: boolean;
  path: string;
  verb: Verb | string;
  /** "" for the core group. */
  apiGroup: string;
  apiVersion: string;
  namespace: string;
  resource: string;
  subresource: string;
  name: string;
}

const METHOD_VERBS: Record<string, Verb> = {
  POST: "create",
  PUT: "update",
  PATCH: "patch",
  DELETE: "delete",
};

/** Classifies a request; `search` is the query string (with or without "?"). */
export function parseRequestInfo(method: string, path: string, search = ""): RequestInfo {
  const base: RequestInfo = {
    isResourceRequest: false,
    path,
    verb: method.toLowerCase(),
    apiGroup: "",
    apiVersion: "",
    namespace: "",
    resource: "",
    subresource: "",
    name: "",
  };
  const parts = path.split("/").filter((part) => part !== "").map(safeDecode);
  let rest: string[];
  if (parts[0] === "api" && parts.length >= 2) {
    rest = parts.slice(2);
    base.apiVersion = parts[1]!;
  } else if (parts[0] === "apis" && parts.length >= 3) {
    rest = parts.slice(3);
    base.apiGroup = parts[1]!;
    base.apiVersion = parts[2]!;
  } else {
    return base;
  }
  if (rest.length === 0) return base; // discovery of a group version
  const info: RequestInfo = {
    ...base,
    isResourceRequest: true,
    verb: METHOD_VERBS[method.toUpperCase()] ?? "get",
  };
  // The deprecated /watch/ prefix: /api/v1/watch/namespaces/ns/pods
  if (rest[0] === "watch") {
    info.verb = "watch";
    rest = rest.slice(1);
  }
  if (rest[0] === "namespaces" && rest.length >= 2 && rest[1] !== "") {
    info.namespace = rest[1]!;
    // /namespaces/{name} and /namespaces/{name}/{subresource} address the namespace itself.
    if (rest.length === 2 || (rest.length === 3 && ["status", "finalize"].includes(rest[2]!))) {
      info.resource = "namespaces";
      info.name = rest[1]!;
      info.subresource = rest[2] ?? "";
      info.namespace = rest[1]!;
      return finishVerb(info, method, search);
    }
    rest = rest.slice(2);
  }
  info.resource = rest[0] ?? "";
  info.name = rest[1] ?? "";
  info.subresource = rest.slice(2).join("/");
  return finishVerb(info, method, search);
}

function finishVerb(info: RequestInfo, method: string, search: string): RequestInfo {
  const upper = method.toUpperCase();
  if (upper === "GET" || upper === "HEAD") {
    if (info.verb === "watch") {
      // /watch/ prefix already decided
    } else if (!info.name) {
      info.verb = queryFlag(new URLSearchParams(search), "watch") ? "watch" : "list";
    } else {
      info.verb = "get";
    }
  } else if (upper === "DELETE" && !info.name) {
    info.verb = "deletecollection";
  }
  // Upgrades (exec, attach, portforward) and proxy use "create"/"get" on their subresource, like the API server.
  return info;
}

function safeDecode(part: string): string {
  if (!part.includes("%")) return part;
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}
