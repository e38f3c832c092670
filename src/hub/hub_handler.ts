/**
 * The hub's HTTP surface: agents upgrade `/connect` to a WebSocket carrying yamux; users and
 * sidecars call `/clusters/<name>/...`, which is authenticated and authorized on the host and
 * sent through one of the cluster's agents as the caller (impersonation).
 */
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
// @ts-types="npm:@types/ws@8.18.1"
import { WebSocketServer } from "ws";
import { impersonationHeaders } from "../kube/mod.ts";
import type { Logger } from "../log/mod.ts";
import type { MetricsRegistry } from "../metrics/mod.ts";
import {
  forwardedHeaders,
  rawHeaderLines,
  responseHeaders,
  writeSocketStatus,
  writeStatus,
} from "../proxy/mod.ts";
import {
  AGENT_CLUSTER_HEADER,
  AGENT_ID_HEADER,
  MEMBER_VERSION_HEADER,
} from "../agent/run_agent.ts";
import { nodeDuplexOf } from "../tunnel/node_duplex.ts";
import { websocketDuplex } from "../tunnel/websocket_duplex.ts";
import { YamuxSession, type YamuxStream } from "../tunnel/yamux/mod.ts";
import type { AgentSession, AgentSessions } from "./agent_sessions.ts";
import { hashToken, sameHash } from "./agent_tokens.ts";
import { parseClusterTarget } from "./cluster_path.ts";
import type { UserAccess } from "./user_access.ts";

/** What the hub's handlers need. */
export interface HubHandlerDeps {
  sessions: AgentSessions;
  access: UserAccess;
  /** The registered token hash of a cluster's agents. */
  tokenHash: (cluster: string) => Promise<string | undefined>;
  onAgentChange: (cluster: string) => void;
  isReady: () => boolean;
  metrics: MetricsRegistry;
  logger: Logger;
}

/** Request and upgrade handlers for the hub's server. */
export interface HubHandler {
  handleRequest(req: IncomingMessage, res: ServerResponse): void;
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Uint8Array): void;
}

/** An HTTP/1.1 request written on a yamux stream to the agent (one stream per request). */
function requestThroughTunnel(
  method: string,
  path: string,
  headers: Record<string, string | string[]>,
  stream: YamuxStream,
): http.ClientRequest {
  // One stream carries one request: "close" makes the agent end the stream after answering,
  // so the response always ends here too and a keep-alive client can send its next request.
  const oneShot = headers.upgrade ? headers : { ...headers, connection: "close" };
  return http.request(
    {
      method,
      path,
      headers: oneShot,
      createConnection: () => nodeDuplexOf(stream),
    } as http.RequestOptions,
  );
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

  /** Authenticates, authorizes and picks an agent stream; answers the error itself. */
  const route = async (
    req: IncomingMessage,
    fail: (code: number, message: string) => void,
  ) => {
    const target = parseClusterTarget(req.url ?? "/");
    if (!target) return fail(404, `Not found: ${String(req.url).split("?")[0]}`);
    if (target instanceof Error) return fail(400, target.message);
    const access = await deps.access.check(
      req.headers.authorization,
      target.cluster,
      req.method ?? "GET",
    );
    if (!access.allowed) {
      requests.inc({ cluster: target.cluster, code: String(access.code) });
      return fail(access.code, access.message);
    }
    const opened = await deps.sessions.openStream(target.cluster);
    if (!opened) {
      requests.inc({ cluster: target.cluster, code: "503" });
      return fail(503, `Cluster "${target.cluster}" has no connected agent`);
    }
    // The caller's own credentials never reach the member; the agent impersonates the caller.
    const headers = {
      ...forwardedHeaders(req, { upgrade: req.headers.upgrade !== undefined }),
      ...impersonationHeaders({
        user: access.user.username,
        ...(access.user.uid ? { uid: access.user.uid } : {}),
        ...(access.user.groups ? { groups: access.user.groups } : {}),
        ...(access.user.extra ? { extra: access.user.extra } : {}),
      }),
    };
    return { target, opened, headers, user: access.user.username };
  };

  const acceptAgent = async (req: IncomingMessage, socket: Duplex, head: Uint8Array) => {
    const cluster = String(req.headers[AGENT_CLUSTER_HEADER] ?? "");
    const token = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? "")?.[1];
    const registered = cluster ? await deps.tokenHash(cluster) : undefined;
    const presented = token ? await hashToken(token) : "";
    if (!registered || !sameHash(registered, presented)) {
      deps.logger.warn("agent refused", {
        cluster,
        reason: registered ? "wrong token" : "cluster not registered",
      });
      writeSocketStatus(socket, 401, "Unauthorized agent");
      return;
    }
    wss.handleUpgrade(req, socket, Buffer.from(head), (ws) => {
      const agent: AgentSession = {
        cluster,
        agentId: String(req.headers[AGENT_ID_HEADER] ?? "unknown"),
        tokenHash: registered,
        memberVersion: String(req.headers[MEMBER_VERSION_HEADER] ?? ""),
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
        res.writeHead(deps.isReady() ? 200 : 503);
        return void res.end(deps.isReady() ? "ok" : "not ready");
      }
      if (path === "/metrics") {
        res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
        return void res.end(deps.metrics.render());
      }
      (async () => {
        const routed = await route(req, (code, message) => writeStatus(res, code, message));
        if (!routed) return;
        const { target, opened, headers } = routed;
        const outgoing = requestThroughTunnel(
          req.method ?? "GET",
          target.path,
          headers,
          opened.stream,
        );
        outgoing.on("response", (response) => {
          deps.logger.debug("request", {
            cluster: target.cluster,
            path: target.path,
            user: routed.user,
            code: response.statusCode,
          });
          requests.inc({ cluster: target.cluster, code: String(response.statusCode) });
          // One request per client connection: node:http on Deno 2.9 left the next request on a
          // keep-alive connection unanswered when a tunnelled response finished late (its
          // bytes sent, its "finish" not yet seen). Clients reconnect; nothing hangs.
          res.writeHead(
            response.statusCode ?? 502,
            response.statusMessage ?? "",
            { ...responseHeaders(response, target.cluster), connection: "close" },
          );
          // Streams (watch, logs -f) get their headers at once; other answers go out as they come.
          if (/[?&](watch=(1|true)|follow=true)/.test(target.path)) res.flushHeaders();
          response.pipe(res);
        });
        outgoing.on("error", (error) => {
          requests.inc({ cluster: target.cluster, code: "503" });
          writeStatus(
            res,
            503,
            `Cluster "${target.cluster}": the tunnel failed: ${error.message}`,
            target.cluster,
          );
        });
        res.once("close", () => {
          if (!res.writableFinished) outgoing.destroy();
        });
        req.pipe(outgoing);
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
        const { target, opened, headers } = routed;
        const outgoing = requestThroughTunnel(
          req.method ?? "GET",
          target.path,
          headers,
          opened.stream,
        );
        outgoing.on("upgrade", (response, upstream, upstreamHead) => {
          socket.write(
            `HTTP/1.1 ${response.statusCode} ${response.statusMessage ?? ""}\r\n${
              rawHeaderLines(response, target.cluster, true)
            }\r\n`,
          );
          if (upstreamHead.length > 0) socket.write(upstreamHead);
          if (head.length > 0) upstream.write(head);
          upstream.pipe(socket);
          socket.pipe(upstream);
          const close = () => {
            socket.destroy();
            upstream.destroy();
          };
          for (const end of [socket, upstream]) {
            end.once("close", close);
            end.once("error", close);
          }
        });
        outgoing.on("response", (response) => {
          socket.write(
            `HTTP/1.1 ${response.statusCode} ${response.statusMessage ?? ""}\r\n${
              rawHeaderLines(response, target.cluster, false)
            }\r\n`,
          );
          response.pipe(socket);
        });
        outgoing.on(
          "error",
          (error) =>
            writeSocketStatus(
              socket,
              503,
              `Cluster "${target.cluster}": the tunnel failed: ${error.message}`,
            ),
        );
        outgoing.end();
      })().catch((error) =>
        writeSocketStatus(socket, 500, `The hub failed: ${(error as Error).message}`)
      );
    },
  };
}
