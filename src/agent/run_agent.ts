/**
 * `mca agent`: dials the hub over wss (verifying it against the pinned CA), serves the hub's
 * yamux streams against its own API server, reconnects with backoff and jitter, and is ready
 * only while connected.
 */
// @ts-types="npm:@types/ws@8.18.1"
import { WebSocket } from "ws";
import net from "node:net";
import tls from "node:tls";
import {
  type ClientConfig,
  createKubeClient,
  createKubeTransport,
  loadClientConfigOrInCluster,
} from "../kube/mod.ts";
import { createLogger, type Logger } from "../log/mod.ts";
import {
  createMetricsRegistry,
  type MetricsRegistry,
  registerProcessMetrics,
} from "../metrics/mod.ts";
import { createUpstream, type Upstream } from "../forward/mod.ts";
import {
  agreedTunnelVersion,
  connectHeaders,
  type Duplex,
  openProxyTunnel,
  TRUST_CHANNEL_VERSION,
  TUNNEL_VERSION_HEADER,
  websocketDuplex,
  YamuxSession,
} from "../tunnel/mod.ts";
import { MCA_VERSION } from "../version.ts";
import { type AgentHandler, createAgentHandler } from "./agent_handler.ts";
import { type AgentMetrics, createAgentMetrics, reconnectReason } from "./agent_metrics.ts";
import { reconnectDelayMs, type ResolvedAgentOptions } from "./agent_options.ts";
import { AgentTrust, requestStreamCount, serveTrustStream } from "./agent_trust.ts";
import { memberVersion } from "./member_version.ts";
import { secretTrustStore } from "./trust_secret.ts";

/** A running agent. */
export interface RunningAgent {
  isConnected(): boolean;
  /** Stops taking new requests, lets open ones finish (up to the grace period), then disconnects. */
  stop(graceMs?: number): Promise<void>;
}

/** What dialing the hub needs, fixed for the agent's life. */
interface Dialer {
  options: ResolvedAgentOptions;
  trust: AgentTrust;
  agentId: string;
  member: Upstream;
  serveStream: AgentHandler;
  metrics: AgentMetrics;
  logger: Logger;
}

/** The connection loop's state: the current session, and how to stop waiting for the next. */
interface Connection {
  session: YamuxSession | undefined;
  stopping: boolean;
  wake: (() => void) | undefined;
}

/** Starts the agent; it keeps reconnecting until stopped. */
export async function runAgent(
  options: ResolvedAgentOptions,
  deps: { logger?: Logger } = {},
): Promise<RunningAgent> {
  const logger = deps.logger ??
    createLogger({ level: options.logLevel, format: options.logFormat });
  const memberConfig = await loadClientConfigOrInCluster({
    ...(options.memberKubeconfig ? { kubeconfig: options.memberKubeconfig } : {}),
    ...(options.memberContext ? { context: options.memberContext } : {}),
  });
  const trust = await loadTrust(options, memberConfig, logger);
  const member = createUpstream(options.cluster, memberConfig, { logger, passImpersonation: true });
  const connection: Connection = { session: undefined, stopping: false, wake: undefined };
  const isConnected = () => connection.session !== undefined && !connection.session.isClosed;
  const registry = createMetricsRegistry();
  registerProcessMetrics(registry);
  const metrics = createAgentMetrics(
    registry,
    () => isConnected() ? requestStreamCount(connection.session!) : 0,
  );
  const serveStream = createAgentHandler(member, options.cluster, logger, {
    requestDuration: metrics.requestDuration,
  });
  const agentId = crypto.randomUUID();
  const dialer = { options, trust, agentId, member, serveStream, metrics, logger };
  const health = options.healthListen
    ? serveHealth(options.healthListen, { isConnected, registry })
    : undefined;
  if (options.hubProxy) {
    logger.info("reaching the hub through an HTTP proxy", { proxy: options.hubProxy.address });
  }
  const loop = keepConnected(dialer, connection);
  return {
    isConnected,
    async stop(graceMs = 30_000) {
      connection.stopping = true;
      connection.wake?.();
      await drain(connection.session, graceMs);
      await loop;
      await health?.shutdown();
      member.close();
    },
  };
}

/** The hub CAs to trust: the pinned one (checked against its pin), or those learned since. */
async function loadTrust(
  options: ResolvedAgentOptions,
  memberConfig: ClientConfig,
  logger: Logger,
): Promise<AgentTrust> {
  const certificatePem = await Deno.readTextFile(options.hubCaFile).catch((error) => {
    throw new Error(
      `Cannot read --hub-ca-file "${options.hubCaFile}": ${(error as Error).message}`,
    );
  });
  const store = options.hubTrustSecret
    ? secretTrustStore(
      createKubeClient(createKubeTransport(memberConfig, { logger })),
      options.hubTrustSecret,
    )
    : undefined;
  return await AgentTrust.load(
    { certificatePem, pin: options.hubCaPin, source: options.hubCaFile },
    { ...(store ? { store } : {}), logger },
  );
}

/** `/healthz` always, `/readyz` while connected to the hub, `/metrics`. */
function serveHealth(
  listen: { hostname: string; port: number },
  { isConnected, registry }: { isConnected: () => boolean; registry: MetricsRegistry },
): Deno.HttpServer {
  return Deno.serve({ ...listen, onListen() {} }, (request) => {
    const path = new URL(request.url).pathname;
    if (path === "/healthz") return new Response("ok");
    if (path === "/readyz") {
      return isConnected() ? new Response("ok") : new Response("not connected", { status: 503 });
    }
    if (path === "/metrics") {
      return new Response(registry.render(), {
        headers: { "content-type": "text/plain; version=0.0.4" },
      });
    }
    return new Response("not found", { status: 404 });
  });
}

/** Connects, serves until the session ends, waits a backoff, and again, until stopped. */
async function keepConnected(dialer: Dialer, connection: Connection): Promise<void> {
  const { options, logger, metrics } = dialer;
  let attempt = 0;
  while (!connection.stopping) {
    let reason;
    try {
      connection.session = await dialHub(dialer);
      attempt = 0;
      metrics.sessionUp.set(1);
      logger.info("connected to the hub", {
        hub: options.hubUrl.origin,
        cluster: options.cluster,
        agent: dialer.agentId,
      });
      const error = await connection.session.closed;
      metrics.sessionUp.set(0);
      logger.warn("disconnected from the hub", { error: error?.message });
      reason = reconnectReason(error, false);
    } catch (error) {
      logger.warn("cannot connect to the hub", {
        hub: options.hubUrl.origin,
        error: (error as Error).message,
      });
      reason = reconnectReason(error as Error, true);
    }
    if (connection.stopping) break;
    metrics.reconnects.inc({ reason });
    const delay = reconnectDelayMs(attempt++);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, delay);
      connection.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

/** Opens the WebSocket to the hub and runs a yamux session on it, serving the hub's streams. */
async function dialHub(dialer: Dialer): Promise<YamuxSession> {
  const { ws, duplex, version } = await openWebSocket(dialer);
  // Frames are small and come in bursts (a response head, then its body): Nagle's algorithm
  // would hold each burst's tail for the peer's delayed ACK (~40 ms).
  (ws as unknown as { _socket?: { setNoDelay?: (on: boolean) => void } })._socket?.setNoDelay?.(
    true,
  );
  const session = new YamuxSession(duplex, {
    client: true,
    keepAliveIntervalMs: dialer.options.keepaliveIntervalMs,
    keepAliveTimeoutMs: 10_000,
    onStream: (stream) => {
      dialer.logger.debug("tunnel stream opened", { stream: stream.id });
      void dialer.serveStream(stream);
    },
  });
  // A hub of tunnel version 2 tells its CA set (and rollovers) on the trust stream.
  if (version >= TRUST_CHANNEL_VERSION) void serveTrustStream(session, dialer.trust, dialer.logger);
  return session;
}

/** The connect request (token, tunnel contract headers), open once the hub agreed a version. */
async function openWebSocket(
  dialer: Dialer,
): Promise<{ ws: WebSocket; duplex: Duplex; version: number }> {
  const { options } = dialer;
  const token = (await Deno.readTextFile(options.tokenFile)).trim();
  const createConnection = options.hubProxy ? await tunnelTls(options) : undefined;
  const ws = new WebSocket(new URL("/connect", options.hubUrl), {
    ...(createConnection ? { createConnection } : {}),
    ca: dialer.trust.bundle,
    // Never skipped: the hub must present a certificate of a pinned (or learned) CA.
    rejectUnauthorized: true,
    headers: {
      Authorization: `Bearer ${token}`,
      ...connectHeaders({
        cluster: options.cluster,
        agentId: dialer.agentId,
        memberVersion: await memberVersion(dialer.member),
      }),
      "User-Agent": `mca-agent/v${MCA_VERSION}`,
    },
    perMessageDeflate: false,
    handshakeTimeout: 10_000,
    // Masking protects plaintext intermediaries from browser-made frames; inside TLS it only
    // costs a pass over every byte (in JavaScript here). An all-zero mask is a valid mask.
    generateMask: (mask: Uint8Array) => void mask.fill(0),
  });
  let version = 1;
  let duplex: Duplex | undefined;
  const countBytes = (direction: string, bytes: number) =>
    dialer.metrics.bytes.inc({ direction }, bytes);
  await new Promise<void>((resolve, reject) => {
    ws.once("upgrade", (response: { headers: Record<string, string | string[] | undefined> }) => {
      const agreed = agreedTunnelVersion(response.headers[TUNNEL_VERSION_HEADER]);
      if (agreed === undefined) {
        ws.terminate();
        reject(new Error("the hub speaks no tunnel version this agent speaks: upgrade the hub"));
      } else version = agreed;
    });
    // Read from the moment it opens: the hub may route a request to this agent at once, and
    // its first frames can come with the 101; a listener added a tick later would miss them.
    ws.once("open", () => {
      duplex = websocketDuplex(ws, countBytes);
      resolve();
    });
    ws.once("unexpected-response", (_request: unknown, response: { statusCode?: number }) => {
      reject(new Error(`the hub refused the connection: HTTP ${response.statusCode}`));
    });
    ws.once("error", reject);
  });
  return { ws, duplex: duplex!, version };
}

/**
 * Through the egress proxy: the CONNECT tunnel, opened first, and ws's connection factory,
 * which runs TLS over it with the options ws computed (the pinned CA, rejectUnauthorized,
 * SNI = the hub's host name), so the TLS session is the agent's with the hub, end to end.
 */
async function tunnelTls(options: ResolvedAgentOptions): Promise<typeof net.createConnection> {
  const port = Number(options.hubUrl.port || 443);
  const hostname = options.hubUrl.hostname.replace(/^\[(.*)\]$/, "$1");
  const socket = await openProxyTunnel(options.hubProxy!, { hostname, port });
  // ws passes its https.request options (ca, rejectUnauthorized, host, port) to the factory.
  const connect = (opts: tls.ConnectionOptions) =>
    tls.connect({ ...opts, socket, servername: net.isIP(hostname) ? "" : hostname });
  return connect as unknown as typeof net.createConnection;
}

/** Lets in-flight streams finish (up to the grace period), then says goodbye. */
async function drain(session: YamuxSession | undefined, graceMs: number): Promise<void> {
  if (!session || session.isClosed) return;
  const deadline = Date.now() + graceMs;
  // The trust stream lives as long as the session: only requests are waited for.
  while (requestStreamCount(session) > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  await session.close();
}
