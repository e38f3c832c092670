/**
 * The hub's HTTP surface: agents upgrade `/connect` to a WebSocket carrying yamux; users and
 * sidecars call `/clusters/<name>/...`, which is authenticated and authorized on the host and
 * sent through one of the cluster's agents as the caller (impersonation).
 */
import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
// @ts-types="npm:@types/ws@8.18.1"
import { WebSocketServer } from "ws";
import type { ProxyRequest, ProxyResponse } from "../http1/mod.ts";
import { impersonationHeaders } from "../kube/mod.ts";
import type { Logger } from "../log/mod.ts";
import type { MetricsRegistry } from "../metrics/mod.ts";
import {
  answerUpgrade,
  forwardedHeaders,
  hasBody,
  isStreamingTarget,
  readBody,
  relayStream,
  responseHeaders,
  upgradeAnswerOf,
  type Upstream,
  writeSocketStatus,
  writeStatus,
} from "../forward/mod.ts";
import {
  AGENT_CLUSTER_HEADER,
  agreedTunnelVersion,
  MIN_TUNNEL_VERSION,
  readAgentHello,
  TUNNEL_VERSION,
  TUNNEL_VERSION_HEADER,
} from "../tunnel/mod.ts";
import { websocketDuplex } from "../tunnel/mod.ts";
import { YamuxSession, type YamuxStream } from "../tunnel/mod.ts";
import { relayThroughAgent, upgradeThroughAgent } from "./agent_exchange.ts";
import type { AgentSession, AgentSessions } from "./agent_sessions.ts";
import { hashToken, sameHash } from "../members/mod.ts";
import { isClusterName, parseClusterTarget } from "./cluster_path.ts";
import type { ClusterIdentity } from "./cluster_identity.ts";
import type { UserAccess, UserInfo } from "./user_access.ts";

/** What the hub's handlers need. */
export interface HubHandlerDeps {
  sessions: AgentSessions;
  access: UserAccess;
  /** The cluster's identity mode (default: every request impersonates its caller). */
  identityOf?: (cluster: string) => Promise<ClusterIdentity>;
  /** The registered token hash of a cluster's agents. */
  tokenHash: (cluster: string) => Promise<string | undefined>;
  onAgentChange: (cluster: string) => void;
  /** Why the hub is not ready, or undefined when it is. */
  notReady: () => string | undefined;
  metrics: MetricsRegistry;
  logger: Logger;
  /** Another replica holding an agent of the cluster, and how to reach it (mutual TLS). */
  findPeer?: (cluster: string) => Promise<string | undefined>;
  peerUpstream?: (peerUrl: string) => Upstream;
  /** True when the request came from another hub replica (its client certificate). */
  isPeer?: (req: HubRequest) => boolean;
}

/** A request to the hub, with its connection (a replica's client certificate is read there). */
export type HubRequest = ProxyRequest & { readonly socket: Socket };

/** Header carrying the identity a replica already checked, accepted only from replicas. */
export const FORWARDED_IDENTITY_HEADER = "x-mca-forwarded-identity";

/** Request and upgrade handlers for the hub's server. */
export interface HubHandler {
  handleRequest(req: HubRequest, res: ProxyResponse): void;
  handleUpgrade(req: HubRequest, socket: Duplex, head: Uint8Array): void;
}

type Routed =
  | {
    kind: "agent";
    target: { cluster: string; path: string };
    opened: { stream: YamuxStream; agent: AgentSession };
    headers: Record<string, string | string[]>;
    user: string;
  }
  | {
    kind: "peer";
    target: { cluster: string; path: string };
    upstream: Upstream;
    headers: Record<string, string | string[]>;
    user: string;
  };

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

/** Sends a request to the replica that holds the cluster's agent and relays its answer. */
async function forwardToPeer(
  req: HubRequest,
  res: ProxyResponse,
  routed: Extract<Routed, { kind: "peer" }>,
): Promise<void> {
  const body = hasBody(req) ? await readBody(req, 64 * 1024 * 1024) : undefined;
  if (body === "too-large") {
    return writeStatus(res, 413, "The request body is too large to forward");
  }
  const abort = new AbortController();
  res.once("close", () => {
    if (!res.writableFinished) abort.abort();
  });
  try {
    const response = await routed.upstream.request({
      method: req.method ?? "GET",
      path: `/clusters/${routed.target.cluster}${routed.target.path}`,
      headers: routed.headers,
      ...(body ? { body } : {}),
      signal: abort.signal,
    });
    res.writeHead(
      response.statusCode ?? 502,
      response.statusMessage ?? "",
      responseHeaders(response, routed.target.cluster),
    );
    if (isStreamingTarget(routed.target.path)) res.flushHeaders();
    await relayStream(response, res, response.headers["content-length"] !== undefined);
  } catch (error) {
    writeStatus(
      res,
      503,
      `Cluster "${routed.target.cluster}": the replica holding its agent failed: ${
        (error as Error).message
      }`,
    );
  }
}

/** Carries an upgrade through the replica that holds the cluster's agent. */
async function upgradeThroughPeer(
  socket: Duplex,
  head: Uint8Array,
  req: HubRequest,
  routed: Extract<Routed, { kind: "peer" }>,
): Promise<void> {
  const result = await routed.upstream.upgrade({
    method: req.method ?? "GET",
    path: `/clusters/${routed.target.cluster}${routed.target.path}`,
    headers: routed.headers,
  });
  answerUpgrade(socket, head, upgradeAnswerOf(result, routed.target.cluster));
}

/** Creates the handlers. */
export function createHubHandler(deps: HubHandlerDeps): HubHandler {
  const requests = deps.metrics.counter(
    "mca_hub_requests_total",
    "Requests to members by cluster and HTTP code",
  );
  const agentsGauge = deps.metrics.gauge("mca_hub_agents", "Connected agents by cluster");
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: 64 * 1024 * 1024,
  });
  // The 101 names the tunnel version both ends speak (checked in acceptAgent).
  wss.on("headers", (headers: string[], request: IncomingMessage) => {
    headers.push(
      `${TUNNEL_VERSION_HEADER}: ${agreedTunnelVersion(request.headers[TUNNEL_VERSION_HEADER])}`,
    );
  });

  /** Authenticates, authorizes and picks an agent stream; answers the error itself. */
  /** Authenticates (or trusts a replica's check), authorizes, and picks an agent stream or a peer replica. */
  const route = async (
    req: HubRequest,
    fail: (code: number, message: string) => void,
  ): Promise<Routed | undefined> => {
    const target = parseClusterTarget(req.url ?? "/");
    if (!target) return void fail(404, `Not found: ${String(req.url).split("?")[0]}`);
    if (target instanceof Error) return void fail(400, target.message);
    const forwarded = req.headers[FORWARDED_IDENTITY_HEADER];
    let user: UserInfo;
    if (forwarded !== undefined) {
      // Only a replica may vouch for a caller; anyone else sending this header is refused.
      const identity = deps.isPeer?.(req) ? parseIdentity(String(forwarded)) : undefined;
      if (!identity) {
        return void fail(
          401,
          "Unauthorized: forwarded identities are accepted only from hub replicas",
        );
      }
      user = identity;
    } else {
      const access = await deps.access.check(
        req.headers.authorization,
        target.cluster,
        req.method ?? "GET",
      );
      if (!access.allowed) {
        requests.inc({ cluster: target.cluster, code: String(access.code) });
        return void fail(access.code, access.message);
      }
      user = access.user;
    }
    const upgrade = req.headers.upgrade !== undefined;
    const incoming = forwardedHeaders(req, { upgrade });
    delete incoming[FORWARDED_IDENTITY_HEADER];
    const opened = await deps.sessions.openStream(target.cluster);
    if (opened) {
      // The caller's own credentials never reach the member; the agent impersonates the caller,
      // unless the Cluster explicitly chose to have requests run as the agent itself.
      const asAgent = (await deps.identityOf?.(target.cluster)) === "AgentServiceAccount";
      const headers = asAgent ? incoming : {
        ...incoming,
        ...impersonationHeaders({
          user: user.username,
          ...(user.uid ? { uid: user.uid } : {}),
          ...(user.groups ? { groups: user.groups } : {}),
          ...(user.extra ? { extra: user.extra } : {}),
        }),
      };
      return { kind: "agent", target, opened, headers, user: user.username };
    }
    // One hop at most: a forwarded request is never forwarded again.
    const peerUrl = forwarded === undefined ? await deps.findPeer?.(target.cluster) : undefined;
    if (peerUrl && deps.peerUpstream) {
      const headers = { ...incoming, [FORWARDED_IDENTITY_HEADER]: JSON.stringify(user) };
      return {
        kind: "peer",
        target,
        upstream: deps.peerUpstream(peerUrl),
        headers,
        user: user.username,
      };
    }
    requests.inc({ cluster: target.cluster, code: "503" });
    return void fail(503, `Cluster "${target.cluster}" has no connected agent`);
  };

  /**
   * Checks an agent's handshake before the cluster's name is used anywhere: a token must be
   * there, the name must be a DNS-1123 label (it becomes part of a Secret's path on the host),
   * and the token must match that cluster's registered hash. Host errors are logged, not shown.
   */
  const checkAgent = async (
    req: HubRequest,
  ): Promise<{ cluster: string; registered: string } | { code: number; message: string }> => {
    const token = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? "")?.[1];
    if (!token) return { code: 401, message: "Unauthorized agent" };
    const { cluster } = readAgentHello(req.headers);
    if (!isClusterName(cluster)) {
      deps.logger.warn("agent refused", { reason: "invalid cluster name" });
      return {
        code: 400,
        message: `The ${AGENT_CLUSTER_HEADER} header must name a cluster (a DNS-1123 label)`,
      };
    }
    let registered: string | undefined;
    try {
      registered = await deps.tokenHash(cluster);
    } catch (error) {
      deps.logger.warn("agent refused", {
        cluster,
        reason: "cannot read its token",
        error: (error as Error).message,
      });
      return { code: 503, message: "Cannot check the agent's token now" };
    }
    if (!registered || !sameHash(registered, await hashToken(token))) {
      deps.logger.warn("agent refused", {
        cluster,
        reason: registered ? "wrong token" : "cluster not registered",
      });
      return { code: 401, message: "Unauthorized agent" };
    }
    return { cluster, registered };
  };

  const acceptAgent = async (req: HubRequest, socket: Duplex, head: Uint8Array) => {
    const checked = await checkAgent(req);
    if ("code" in checked) return writeSocketStatus(socket, checked.code, checked.message);
    const { cluster, registered } = checked;
    const hello = readAgentHello(req.headers);
    if (agreedTunnelVersion(req.headers[TUNNEL_VERSION_HEADER]) === undefined) {
      deps.logger.warn("agent refused", { cluster, reason: "no tunnel version in common" });
      return writeSocketStatus(
        socket,
        426,
        `This hub speaks tunnel versions ${MIN_TUNNEL_VERSION} to ${TUNNEL_VERSION}: upgrade the agent`,
      );
    }
    // ws types ask for node's IncomingMessage; it reads only method, url, headers and socket.
    const request = req as unknown as IncomingMessage;
    wss.handleUpgrade(request, socket, Buffer.from(head), (ws) => {
      const agent: AgentSession = {
        cluster,
        agentId: hello.agentId,
        tokenHash: registered,
        memberVersion: hello.memberVersion,
        connectedAt: new Date(),
        streams: 0,
        session: new YamuxSession(websocketDuplex(ws), {
          client: false,
          keepAliveIntervalMs: 15_000,
        }),
      };
      deps.sessions.add(agent);
      agentsGauge.set(deps.sessions.agents(cluster).length, { cluster });
      deps.onAgentChange(cluster);
      deps.logger.info("agent connected", {
        cluster,
        agent: agent.agentId,
        memberVersion: agent.memberVersion,
      });
      agent.session.closed.then((error) => {
        deps.sessions.remove(agent);
        agentsGauge.set(deps.sessions.agents(cluster).length, { cluster });
        deps.onAgentChange(cluster);
        deps.logger.info("agent disconnected", {
          cluster,
          agent: agent.agentId,
          reason: error?.message,
        });
      });
    });
  };

  return {
    handleRequest(req, res) {
      const path = (req.url ?? "/").split("?")[0];
      if (path === "/healthz") return void res.end("ok");
      if (path === "/readyz") {
        const reason = deps.notReady();
        res.writeHead(reason ? 503 : 200);
        return void res.end(reason ? `not ready: ${reason}` : "ok");
      }
      if (path === "/metrics") {
        // The hub listens where agents on the internet reach it: its cluster names and traffic
        // are shown only to callers the host allows `get` on /metrics (as kube-apiserver does).
        return void deps.access.checkPath(req.headers.authorization, "/metrics").then(
          (access) => {
            if (!access.allowed) return writeStatus(res, access.code, access.message);
            res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
            res.end(deps.metrics.render());
          },
          (error) => writeStatus(res, 503, `Cannot check access: ${(error as Error).message}`),
        );
      }
      (async () => {
        const routed = await route(req, (code, message) => writeStatus(res, code, message));
        if (!routed) return;
        if (routed.kind === "peer") return await forwardToPeer(req, res, routed);
        const { target, opened, headers } = routed;
        const request = { method: req.method ?? "GET", path: target.path, headers };
        await relayThroughAgent(req, res, opened.stream, request, (head) => {
          deps.logger.debug("request", {
            cluster: target.cluster,
            path: target.path,
            user: routed.user,
            code: head.status,
          });
          requests.inc({ cluster: target.cluster, code: String(head.status) });
        }).catch((error) => {
          opened.stream.reset();
          requests.inc({ cluster: target.cluster, code: "503" });
          writeStatus(
            res,
            503,
            `Cluster "${target.cluster}": the tunnel failed: ${(error as Error).message}`,
            target.cluster,
          );
        });
      })().catch((error) => {
        deps.logger.error("hub request failed", { path, error: (error as Error).message });
        writeStatus(res, 500, `The hub failed: ${(error as Error).message}`);
      });
    },

    handleUpgrade(req, socket, head) {
      const path = (req.url ?? "/").split("?")[0];
      (async () => {
        if (path === "/connect") return await acceptAgent(req, socket, head);
        const routed = await route(
          req,
          (code, message) => writeSocketStatus(socket, code, message),
        );
        if (!routed) return;
        if (routed.kind === "peer") return await upgradeThroughPeer(socket, head, req, routed);
        const { target, opened, headers } = routed;
        const request = { method: req.method ?? "GET", path: target.path, headers };
        await upgradeThroughAgent(socket, head, opened.stream, request).catch((error) => {
          opened.stream.reset();
          writeSocketStatus(
            socket,
            503,
            `Cluster "${target.cluster}": the tunnel failed: ${(error as Error).message}`,
          );
        });
      })().catch((error) =>
        writeSocketStatus(socket, 500, `The hub failed: ${(error as Error).message}`)
      );
    },
  };
}
