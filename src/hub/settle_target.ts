/**
 * The first steps of a request to a member: who is calling (a replica's vouched identity, or the
 * host's TokenReview and SubjectAccessReview on `clusters/proxy`), and where the request goes
 * (an agent's stream, a peer replica holding an agent, or nowhere), as one tagged union.
 */
import type { ProxyRequest } from "../http1/mod.ts";
import { impersonationHeaders } from "../kube/mod.ts";
import type { Counter, Histogram } from "../metrics/mod.ts";
import { forwardedHeaders, type Upstream } from "../forward/mod.ts";
import type { YamuxStream } from "../tunnel/mod.ts";
import { type ClusterTarget, parseClusterTarget } from "./cluster_path.ts";
import { parseAggregatedTarget } from "./aggregated_api.ts";
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
    user: string;
  }
  | {
    kind: "peer";
    target: ClusterTarget;
    upstream: Upstream;
    /** The caller's headers, with the identity this replica checked. */
    headers: Record<string, string | string[]>;
    user: string;
  };

/** An allowed caller; `vouched` when a replica checked it (such a request is never forwarded). */
interface Caller {
  kind: "caller";
  user: UserInfo;
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
    ? await authenticateFrontProxy(req, target.cluster, context)
    : await authenticateCaller(req, target.cluster, context);
  if (caller.kind === "refuse") return caller;
  return await settleTarget(req, target, caller, context);
}

/**
 * Authenticates and authorizes the caller: a replica's forwarded identity (trusted only from a
 * replica's client certificate), else the bearer token through the host (TokenReview, then a
 * SubjectAccessReview on `clusters/proxy` of the cluster).
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
  const access = await deps.access.check(req.headers.authorization, cluster, req.method ?? "GET");
  if (!access.allowed) {
    requests.inc({ cluster, code: String(access.code) });
    return refuse(access.code, access.message);
  }
  return { kind: "caller", user: access.user, vouched: false };
}

/**
 * Authenticates the host API server's front proxy (its client certificate and the caller it
 * names), then authorizes the caller with the same SubjectAccessReview as the direct entrance.
 * Bearer tokens and forwarded identities are not accepted here.
 */
async function authenticateFrontProxy(
  req: HubRequest,
  cluster: string,
  { deps, requests }: HubRequestContext,
): Promise<Caller | Refusal> {
  const named = deps.frontProxy?.authenticate(req) ??
    { kind: "refuse", code: 401, message: "Unauthorized: the aggregated entrance is not enabled" };
  if (named.kind === "refuse") {
    requests.inc({ cluster, code: "401" });
    return refuse(named.code, named.message);
  }
  const access = await deps.access.authorize(named.user, cluster, req.method ?? "GET");
  if (!access.allowed) {
    requests.inc({ cluster, code: String(access.code) });
    return refuse(access.code, access.message);
  }
  return { kind: "caller", user: access.user, vouched: false };
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
  const user = caller.user;
  const opened = await deps.sessions.openStream(target.cluster);
  if (opened) {
    // The caller's own credentials never reach the member; the agent impersonates the caller,
    // unless the Cluster explicitly chose to have requests run as the agent itself.
    const asAgent = (await deps.identityOf?.(target.cluster)) === "AgentServiceAccount";
    const headers = asAgent ? incoming : { ...incoming, ...impersonating(user) };
    return { kind: "agent", target, stream: opened.stream, headers, user: user.username };
  }
  // One hop at most: a forwarded request is never forwarded again.
  const peerUrl = caller.vouched ? undefined : await deps.findPeer?.(target.cluster);
  if (peerUrl && deps.peerUpstream) {
    const headers = { ...incoming, [FORWARDED_IDENTITY_HEADER]: JSON.stringify(user) };
    const upstream = deps.peerUpstream(peerUrl);
    return { kind: "peer", target, upstream, headers, user: user.username };
  }
  requests.inc({ cluster: target.cluster, code: "503" });
  return refuse(503, `Cluster "${target.cluster}" has no connected agent`);
}

function impersonating(user: UserInfo): Record<string, string[]> {
  return impersonationHeaders({
    user: user.username,
    ...(user.uid ? { uid: user.uid } : {}),
    ...(user.groups ? { groups: user.groups } : {}),
    ...(user.extra ? { extra: user.extra } : {}),
  });
}
