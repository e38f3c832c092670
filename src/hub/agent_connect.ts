/**
 * Accepting an agent on `/connect`: its token and cluster name are checked, a tunnel version
 * both ends speak is agreed, and the WebSocket it upgrades to carries a yamux session that
 * joins the hub's agent sessions until it closes.
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
// @ts-types="npm:@types/ws@8.18.1"
import { type WebSocket, WebSocketServer } from "ws";
import { writeSocketStatus } from "../forward/mod.ts";
import type { Counter } from "../metrics/mod.ts";
import { hashToken, sameHash } from "../members/mod.ts";
import {
  AGENT_CLUSTER_HEADER,
  agreedTunnelVersion,
  bearerToken,
  MIN_TUNNEL_VERSION,
  readAgentHello,
  TRUST_CHANNEL_VERSION,
  TUNNEL_VERSION,
  TUNNEL_VERSION_HEADER,
  websocketDuplex,
  YamuxSession,
} from "../tunnel/mod.ts";
import type { AgentSession } from "./agent_sessions.ts";
import { isClusterName } from "./cluster_path.ts";
import { HostReadsBusyError } from "./host_read_gate.ts";
import type { HubHandlerDeps, HubRequest } from "./hub_handler.ts";

/** Streams an agent may open over one session (its trust stream, and retries of it). */
export const MAX_AGENT_STREAMS = 16;
/**
 * Sessions of one cluster a replica holds. Agents run two replicas by default, each with a
 * second session while it rotates its token or moves off a stopping hub replica; a stolen
 * token must not make the hub hold sessions without bound.
 */
export const MAX_SESSIONS_PER_CLUSTER = 32;

/** Accepts one agent's upgrade to `/connect`, or refuses it with a Status. */
export type AgentAcceptor = (req: HubRequest, socket: Duplex, head: Uint8Array) => Promise<void>;

/** A checked agent: its cluster and the token hash it matched. */
type CheckedAgent = { cluster: string; registered: string } | { code: number; message: string };

/** Creates the acceptor; `connections` counts the sessions it accepts per cluster. */
export function createAgentAcceptor(deps: HubHandlerDeps, connections: Counter): AgentAcceptor {
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: 64 * 1024 * 1024,
  });
  // The 101 names the tunnel version both ends speak (checked before the upgrade).
  wss.on("headers", (headers: string[], request: IncomingMessage) => {
    headers.push(
      `${TUNNEL_VERSION_HEADER}: ${agreedTunnelVersion(request.headers[TUNNEL_VERSION_HEADER])}`,
    );
  });
  return async (req, socket, head) => {
    if (deps.isStopping?.()) {
      return writeSocketStatus(socket, 503, "This hub replica is stopping: connect again");
    }
    const checked = await checkAgent(req, deps);
    if ("code" in checked) return writeSocketStatus(socket, checked.code, checked.message);
    if (deps.sessions.sessionsOf(checked.cluster).length >= MAX_SESSIONS_PER_CLUSTER) {
      deps.logger.warn("agent refused", { cluster: checked.cluster, reason: "too many sessions" });
      return writeSocketStatus(
        socket,
        429,
        `Cluster "${checked.cluster}" already has ${MAX_SESSIONS_PER_CLUSTER} agent sessions on this hub replica`,
      );
    }
    if (agreedTunnelVersion(req.headers[TUNNEL_VERSION_HEADER]) === undefined) {
      deps.logger.warn("agent refused", {
        cluster: checked.cluster,
        reason: "no tunnel version in common",
      });
      return writeSocketStatus(
        socket,
        426,
        `This hub speaks tunnel versions ${MIN_TUNNEL_VERSION} to ${TUNNEL_VERSION}: upgrade the agent`,
      );
    }
    // ws types ask for node's IncomingMessage; it reads only method, url, headers and socket.
    const request = req as unknown as IncomingMessage;
    wss.handleUpgrade(request, socket, Buffer.from(head), (ws) => {
      connections.inc({ cluster: checked.cluster });
      addAgent(agentSession(req, checked, { ws, deps }), deps);
    });
  };
}

/**
 * Checks an agent's handshake before the cluster's name is used anywhere: a token must be
 * there, the name must be a DNS-1123 label (it becomes part of a Secret's path on the host),
 * and the token must match that cluster's registered hash. Host errors are logged, not shown.
 */
async function checkAgent(req: HubRequest, deps: HubHandlerDeps): Promise<CheckedAgent> {
  const token = bearerToken(req.headers.authorization);
  if (!token) return { code: 401, message: "Unauthorized agent" };
  const { cluster } = readAgentHello(req.headers);
  if (!isClusterName(cluster)) {
    deps.logger.warn("agent refused", { reason: "invalid cluster name" });
    return {
      code: 400,
      message: `The ${AGENT_CLUSTER_HEADER} header must name a cluster (a DNS-1123 label)`,
    };
  }
  let accepted: string[];
  try {
    accepted = await deps.tokens.accepted(cluster);
  } catch (error) {
    // Not logged: under a flood that would be a line per request (the metric counts them).
    if (error instanceof HostReadsBusyError) return { code: 429, message: error.message };
    deps.logger.warn("agent refused", {
      cluster,
      reason: "cannot read its token",
      error: (error as Error).message,
    });
    return { code: 503, message: "Cannot check the agent's token now" };
  }
  const presented = await hashToken(token);
  const registered = accepted.find((hash) => sameHash(presented, hash));
  if (!registered) {
    deps.logger.warn("agent refused", {
      cluster,
      reason: accepted.length > 0 ? "wrong token" : "cluster not registered",
    });
    return { code: 401, message: "Unauthorized agent" };
  }
  return { cluster, registered };
}

/** The session of an accepted agent: the hub accepts streams' ids as the yamux server. */
function agentSession(
  req: HubRequest,
  { cluster, registered }: { cluster: string; registered: string },
  { ws, deps }: { ws: WebSocket; deps: HubHandlerDeps },
): AgentSession {
  const hello = readAgentHello(req.headers);
  const version = agreedTunnelVersion(req.headers[TUNNEL_VERSION_HEADER]) ?? MIN_TUNNEL_VERSION;
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
      // An agent opens one trust stream per session; a few more allow for a retry.
      maxInboundStreams: MAX_AGENT_STREAMS,
      // The only stream an agent opens is its trust stream (tunnel version 2).
      onStream: (stream) => {
        if (version < TRUST_CHANNEL_VERSION || !deps.trust) return stream.reset();
        void deps.trust.serve(agent, stream, () => deps.onAgentChange(cluster));
      },
    }),
  };
  return agent;
}

/** Adds the agent to the sessions until its session closes, telling the hub each time. */
function addAgent(agent: AgentSession, deps: HubHandlerDeps): void {
  const { cluster } = agent;
  const recount = () => deps.onAgentChange(cluster);
  deps.sessions.add(agent);
  recount();
  deps.logger.info("agent connected", {
    cluster,
    agent: agent.agentId,
    memberVersion: agent.memberVersion,
  });
  agent.session.closed.then((error) => {
    deps.sessions.remove(agent);
    recount();
    deps.logger.info("agent disconnected", {
      cluster,
      agent: agent.agentId,
      reason: error?.message,
    });
  });
}
