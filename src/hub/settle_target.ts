/**
 * The first steps of a request to a member: who is calling (a replica's vouched identity, or the
 * host's TokenReview), as whom it acts (its authorized `Impersonate-*` headers, then
 * SubjectAccessReview on `clusters/proxy`), how the member sees it (the Cluster's mapping), and
 * where the request goes (an agent's stream, a peer replica holding an agent, or nowhere), as
 * one tagged union.
 */
import type { ProxyRequest } from "../http1/mod.ts";
import type { Counter, Histogram } from "../metrics/mod.ts";
import { forwardedHeaders, type Upstream } from "../forward/mod.ts";
import type { YamuxStream } from "../tunnel/mod.ts";
import { type ClusterTarget, parseClusterTarget } from "./cluster_path.ts";
import { parseAggregatedTarget } from "./aggregated_api.ts";
import { effectiveCaller } from "./effective_caller.ts";
import { memberImpersonation } from "./member_impersonation.ts";
import { isRequestHeaderName } from "./request_header.ts";
import type { HubHandlerDeps, HubRequest } from "./hub_handler.ts";
import type { UserInfo } from "./user_access.ts";

/** Header carrying the identity a replica already checked, accepted only from replicas. */
export const FORWARDED_IDENTITY_HEADER = "x-mca-forwarded-identity";

/** What the steps use: the handler's deps and its request counter. */
export interface HubRequestContext {
  deps: HubHandlerDeps;
  /** Counts a request by cluster and code; for one request, also times it (timedRequests()). */
  requests: Counter;
  /** Labels: `cluster`, `code`: observed wherever a request is counted. */
  requestDuration: Histogram;
}

/** A request answered by the hub itself, with a Status. */
export interface Refusal {
  kind: "refuse";
  code: number;
  message: string;
}

/** Where a request to a member goes, once the caller is known and allowed. */
export type SettledTarget =
  | Refusal
  | {
    kind: "agent";
    target: ClusterTarget;
    stream: YamuxStream;
    /** The member's headers: the caller's, impersonating the caller unless the Cluster opted out. */
    headers: Record<string, string | string[]>;
    identity: IdentityFields;
  }
  | {
    kind: "peer";
    target: ClusterTarget;
    upstream: Upstream;
    /** The caller's headers, with the identity this replica checked. */
    headers: Record<string, string | string[]>;
    identity: IdentityFields;
  };

/**
 * Who a request is, for its log line (names only): the caller, the identity it impersonates,
 * and the user the member sees.
 */
export interface IdentityFields {
  user: string;
  impersonating?: string;
  memberUser?: string;
}

/**
 * A caller: `user` is the identity the request acts as; `impersonator` the authenticated caller
 * when it impersonates; `vouched` when a replica checked it (such a request is never forwarded).
 */
interface Caller {
  kind: "caller";
  user: UserInfo;
  impersonator?: UserInfo;
  vouched: boolean;
}

function refuse(code: number, message: string): Refusal {
  return { kind: "refuse", code, message };
}

/**
 * Which entrance a request came through: `/clusters/<name>/...` (bearer tokens), or the
 * aggregated `/apis/proxy.mca.k8s.io/v1alpha1/clusters/<name>/proxy/...` (the host's front proxy).
 */
export type Entrance = "direct" | "aggregated";

/** Parses the cluster's path, checks the caller and settles where the request goes. */
export async function settleRequest(
  req: HubRequest,
  context: HubRequestContext,
): Promise<SettledTarget> {
  const url = req.url ?? "/";
  const entrance: Entrance = url.startsWith("/apis/") ? "aggregated" : "direct";
  const target = entrance === "aggregated" ? parseAggregatedTarget(url) : parseClusterTarget(url);
  if (!target) return refuse(404, `Not found: ${url.split("?")[0]}`);
  if (target instanceof Error) return refuse(400, target.message);
  const caller = entrance === "aggregated"
    ? authenticateFrontProxy(req, target.cluster, context)
    : await authenticateCaller(req, target.cluster, context);
  if (caller.kind === "refuse") return caller;
  const allowed = caller.vouched
    ? caller
    : await authorizeCaller(req, target.cluster, caller, context);
  if (allowed.kind === "refuse") return allowed;
  return await settleTarget(req, target, allowed, context);
}

/**
 * Authenticates the caller: a replica's forwarded identity (trusted only from a replica's client
 * certificate, and already authorized there), else the bearer token through the host.
 */
async function authenticateCaller(
  req: HubRequest,
  cluster: string,
  { deps, requests }: HubRequestContext,
): Promise<Caller | Refusal> {
  const forwarded = req.headers[FORWARDED_IDENTITY_HEADER];
  if (forwarded !== undefined) {
    // Only a replica may vouch for a caller; anyone else sending this header is refused.
    const identity = deps.isPeer?.(req) ? parseIdentity(String(forwarded)) : undefined;
    if (!identity) {
      return refuse(401, "Unauthorized: forwarded identities are accepted only from hub replicas");
    }
    return { kind: "caller", user: identity, vouched: true };
  }
  const access = await deps.access.authenticate(req.headers.authorization);
  if (!access.allowed) {
    requests.inc({ cluster, code: String(access.code) });
    return refuse(access.code, access.message);
  }
  return { kind: "caller", user: access.user, vouched: false };
}

/**
 * The identity the request acts as (its `Impersonate-*` headers, each part allowed on the host
 * as kube-apiserver allows it), which then needs `clusters/proxy` of the cluster.
 */
async function authorizeCaller(
  req: HubRequest,
  cluster: string,
  caller: Caller,
  { deps, requests }: HubRequestContext,
): Promise<Caller | Refusal> {
  const effective = await effectiveCaller(caller.user, req.rawHeaders, deps.access);
  const refused = (code: number, message: string, user: UserInfo) => {
    requests.inc({ cluster, code: String(code) });
    deps.logger.info("request refused", {
      cluster,
      user: caller.user.username,
      ...(user !== caller.user ? { impersonating: user.username } : {}),
      code,
    });
    return refuse(code, message);
  };
  if (effective.kind === "refuse") return refused(effective.code, effective.message, caller.user);
  const access = await deps.access.authorize(effective.user, cluster, req.method ?? "GET");
  if (!access.allowed) return refused(access.code, access.message, effective.user);
  return {
    kind: "caller",
    user: effective.user,
    ...(effective.impersonator ? { impersonator: effective.impersonator } : {}),
    vouched: false,
  };
}

/**
 * Authenticates the host API server's front proxy (its client certificate and the caller it
 * names); the caller is then authorized as at the direct entrance (authorizeCaller). Bearer
 * tokens and forwarded identities are not accepted here.
 */
function authenticateFrontProxy(
  req: HubRequest,
  cluster: string,
  { deps, requests }: HubRequestContext,
): Caller | Refusal {
  const named = deps.frontProxy?.authenticate(req) ??
    { kind: "refuse", code: 401, message: "Unauthorized: the aggregated entrance is not enabled" };
  if (named.kind === "refuse") {
    requests.inc({ cluster, code: "401" });
    return refuse(named.code, named.message);
  }
  return { kind: "caller", user: named.user, vouched: false };
}

/** The identity a replica forwarded, checked for shape. */
function parseIdentity(text: string): UserInfo | undefined {
  try {
    const value = JSON.parse(text) as UserInfo;
    if (typeof value.username !== "string" || !value.username) return undefined;
    if (value.groups !== undefined && !Array.isArray(value.groups)) return undefined;
    return value;
  } catch {
    return undefined;
  }
}

/** An agent stream of the cluster, else a peer replica holding one (one hop at most), else 503. */
async function settleTarget(
  req: ProxyRequest,
  target: ClusterTarget,
  caller: Caller,
  { deps, requests }: HubRequestContext,
): Promise<SettledTarget> {
  const incoming = forwardedHeaders(req, { upgrade: req.headers.upgrade !== undefined });
  delete incoming[FORWARDED_IDENTITY_HEADER];
  // A front proxy's identity headers were read (aggregated entrance) or ignored (direct one):
  // they never reach a member or a replica.
  const requestHeaders = deps.frontProxy?.config();
  for (const name of Object.keys(incoming)) {
    if (isRequestHeaderName(name, requestHeaders)) delete incoming[name];
  }
  const member = await memberImpersonation(target.cluster, caller, deps.identityOf);
  const named = {
    user: (caller.impersonator ?? caller.user).username,
    ...(caller.impersonator ? { impersonating: caller.user.username } : {}),
  };
  if (member.kind === "refuse") {
    requests.inc({ cluster: target.cluster, code: String(member.code) });
    deps.logger.info("request refused", { cluster: target.cluster, ...named, code: member.code });
    return member;
  }
  const identity: IdentityFields = {
    ...named,
    ...(member.memberUser ? { memberUser: member.memberUser } : {}),
  };
  const opened = await deps.sessions.openStream(target.cluster);
  if (opened) {
    const headers = { ...incoming, ...member.headers };
    return { kind: "agent", target, stream: opened.stream, headers, identity };
  }
  // One hop at most: a forwarded request is never forwarded again. The replica receives the
  // identity the request acts as, already authorized here.
  const peerUrl = caller.vouched ? undefined : await deps.findPeer?.(target.cluster);
  if (peerUrl && deps.peerUpstream) {
    const headers = { ...incoming, [FORWARDED_IDENTITY_HEADER]: JSON.stringify(caller.user) };
    const upstream = deps.peerUpstream(peerUrl);
    return { kind: "peer", target, upstream, headers, identity };
  }
  requests.inc({ cluster: target.cluster, code: "503" });
  return refuse(503, `Cluster "${target.cluster}" has no connected agent`);
}
