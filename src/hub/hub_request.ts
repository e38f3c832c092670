/**
 * A request to `/clusters/<name>/...` as named steps: settle the target (settle_target.ts), then
 * forward it through an agent's stream or a peer replica, or upgrade it through either.
 */
import type { Duplex } from "node:stream";
import type { ProxyResponse } from "../http1/mod.ts";
import {
  answerUpgrade,
  auditIdField,
  CLUSTER_HEADER,
  hasBody,
  isStreamingTarget,
  readBody,
  relayStream,
  responseHeaders,
  upgradeAnswerOf,
  writeSocketStatus,
  writeStatus,
} from "../forward/mod.ts";
import { relayThroughAgent, upgradeThroughAgent } from "./agent_exchange.ts";
import type { HubRequest } from "./hub_handler.ts";
import { tooManyInFlightMessage } from "./caller_in_flight.ts";
import { type HubRequestContext, type SettledTarget, settleRequest } from "./settle_target.ts";

type Settled<K extends SettledTarget["kind"]> = Extract<SettledTarget, { kind: K }>;

/** Largest body forwarded to a peer replica (the agent streams bodies instead). */
const MAX_PEER_BODY_BYTES = 64 * 1024 * 1024;

/** Answers a request for a member: refused, relayed through an agent, or forwarded to a peer. */
export async function answerMemberRequest(
  req: HubRequest,
  res: ProxyResponse,
  shared: HubRequestContext,
): Promise<void> {
  const context = timedRequests(shared, performance.now());
  const settled = await settleRequest(req, context);
  if (settled.kind === "refuse") return writeStatus(res, settled.code, settled.message);
  const release = admitCaller(req, settled, context);
  if (!release) {
    const { cluster } = settled.target;
    const { callers } = context.deps;
    if (settled.kind === "agent") settled.stream.reset();
    context.requests.inc({ cluster, code: "429" });
    context.deps.logger.info("request refused: too many in flight", {
      cluster,
      ...settled.identity,
    });
    req.resume();
    return writeStatus(
      res,
      429,
      tooManyInFlightMessage(settled.identity.user, callers?.maxPerCaller ?? 0),
      cluster,
    );
  }
  try {
    if (settled.kind === "peer") {
      logMemberRequest(req, settled, context);
      return await forwardToPeer(req, res, settled);
    }
    await forwardThroughAgent(req, res, settled, context);
  } finally {
    release();
  }
}

/**
 * A slot for the caller's request (callers-in-flight.ts), or undefined when the caller is at its
 * limit. Streams and requests a replica forwarded pass without one.
 */
function admitCaller(
  req: HubRequest,
  { target, identity }: Exclude<SettledTarget, { kind: "refuse" }>,
  { deps }: HubRequestContext,
): (() => void) | undefined {
  const passes = () => {};
  if (!deps.callers || deps.isPeer?.(req) || isStreamingTarget(target.path)) return passes;
  return deps.callers.admit(identity.user);
}

/** Logs a request the hub sends on without waiting for its answer (upgrades, peer replicas). */
function logMemberRequest(
  req: HubRequest,
  { kind, target, identity }: Exclude<SettledTarget, { kind: "refuse" }>,
  { deps }: HubRequestContext,
): void {
  deps.logger.info(kind === "peer" ? "request to a replica" : "upgrade", {
    cluster: target.cluster,
    method: req.method ?? "GET",
    path: target.path.split("?")[0],
    ...identity,
  });
}

/** Answers an upgrade for a member: refused, or carried through an agent or a peer. */
export async function answerMemberUpgrade(
  req: HubRequest,
  socket: Duplex,
  head: Uint8Array,
  shared: HubRequestContext,
): Promise<void> {
  const context = timedRequests(shared, performance.now());
  const settled = await settleRequest(req, context);
  if (settled.kind === "refuse") return writeSocketStatus(socket, settled.code, settled.message);
  logMemberRequest(req, settled, shared);
  if (settled.kind === "peer") return await upgradeThroughPeer(req, socket, head, settled);
  await upgradeAgentStream(req, socket, head, settled);
}

/**
 * The context for one request that arrived at `started`: counting it (by cluster and code) also
 * observes its duration, so the histogram and `mca_hub_requests_total` count the same requests.
 */
function timedRequests(context: HubRequestContext, started: number): HubRequestContext {
  const { requests, requestDuration, deps } = context;
  return {
    ...context,
    requests: {
      inc(labels, by) {
        const counted = { ...labels, cluster: clusterLabel(deps, labels?.cluster) };
        requests.inc(counted, by);
        requestDuration.observe((performance.now() - started) / 1000, counted);
      },
      get: (labels) => requests.get(labels),
    },
  };
}

/** The label of requests naming a cluster that is neither registered nor connected. */
export const UNREGISTERED_CLUSTER_LABEL = "(unregistered)";

/**
 * A request's cluster as a metric label. The name comes from the path, before the caller is
 * known: made-up names would each add series to the hub's metrics, so they share one label.
 */
function clusterLabel(deps: HubRequestContext["deps"], cluster: string | undefined): string {
  if (cluster === undefined || deps.sessions.agents(cluster).length > 0) return cluster ?? "";
  const registered = deps.registeredClusters?.() ?? [];
  if (registered instanceof Set) {
    return registered.has(cluster) ? cluster : UNREGISTERED_CLUSTER_LABEL;
  }
  for (const name of registered) if (name === cluster) return cluster;
  return UNREGISTERED_CLUSTER_LABEL;
}

/** Relays the request through the agent's stream; a tunnel failure before the answer is a 503. */
async function forwardThroughAgent(
  req: HubRequest,
  res: ProxyResponse,
  { target, stream, headers, identity }: Settled<"agent">,
  { deps, requests }: HubRequestContext,
): Promise<void> {
  const request = { method: req.method ?? "GET", path: target.path, headers };
  await relayThroughAgent(req, res, stream, request, (head) => {
    // The hub names the cluster that answered: an agent cannot claim to be another one.
    head.headers[CLUSTER_HEADER] = target.cluster;
    // The audit trail of the hub's own entrance: who reached which member (names, no secrets).
    deps.logger.info("request", {
      cluster: target.cluster,
      method: request.method,
      path: target.path.split("?")[0],
      ...identity,
      code: head.status,
      ...auditIdField(head.headers),
    });
    requests.inc({ cluster: target.cluster, code: String(head.status) });
  }).catch((error) => {
    stream.reset();
    requests.inc({ cluster: target.cluster, code: "503" });
    writeStatus(
      res,
      503,
      `Cluster "${target.cluster}": the tunnel failed: ${(error as Error).message}`,
      target.cluster,
    );
  });
}

/** Sends a request to the replica that holds the cluster's agent and relays its answer. */
async function forwardToPeer(
  req: HubRequest,
  res: ProxyResponse,
  { target, upstream, headers }: Settled<"peer">,
): Promise<void> {
  const body = hasBody(req) ? await readBody(req, MAX_PEER_BODY_BYTES) : undefined;
  if (body === "too-large") {
    return writeStatus(res, 413, "The request body is too large to forward");
  }
  const abort = new AbortController();
  res.once("close", () => {
    if (!res.writableFinished) abort.abort();
  });
  try {
    const response = await upstream.request({
      method: req.method ?? "GET",
      path: `/clusters/${target.cluster}${target.path}`,
      headers,
      ...(body ? { body } : {}),
      signal: abort.signal,
    });
    res.writeHead(
      response.statusCode ?? 502,
      response.statusMessage ?? "",
      responseHeaders(response, target.cluster),
    );
    if (isStreamingTarget(target.path)) res.flushHeaders();
    await relayStream(response, res, response.headers["content-length"] !== undefined);
  } catch (error) {
    writeStatus(
      res,
      503,
      `Cluster "${target.cluster}": the replica holding its agent failed: ${
        (error as Error).message
      }`,
    );
  }
}

/** Carries an upgrade through the agent's stream; a tunnel failure before the answer is a 503. */
async function upgradeAgentStream(
  req: HubRequest,
  socket: Duplex,
  head: Uint8Array,
  { target, stream, headers }: Settled<"agent">,
): Promise<void> {
  const request = { method: req.method ?? "GET", path: target.path, headers };
  await upgradeThroughAgent(socket, head, stream, request).catch((error) => {
    stream.reset();
    writeSocketStatus(
      socket,
      503,
      `Cluster "${target.cluster}": the tunnel failed: ${(error as Error).message}`,
    );
  });
}

/** Carries an upgrade through the replica that holds the cluster's agent. */
async function upgradeThroughPeer(
  req: HubRequest,
  socket: Duplex,
  head: Uint8Array,
  { target, upstream, headers }: Settled<"peer">,
): Promise<void> {
  const result = await upstream.upgrade({
    method: req.method ?? "GET",
    path: `/clusters/${target.cluster}${target.path}`,
    headers,
  });
  answerUpgrade(socket, head, upgradeAnswerOf(result, target.cluster));
}
