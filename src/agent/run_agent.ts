/**
 * `mca agent`: dials the hub over wss (verifying it against the pinned CA), serves the hub's
 * yamux streams against its own API server, reconnects with backoff and jitter, and is ready
 * only while connected.
 */
// @ts-types="npm:@types/ws@8.18.1"
import { WebSocket } from "ws";
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
import { computeCaPin } from "../pki/mod.ts";
import { createUpstream, type Upstream } from "../forward/mod.ts";
import {
  agreedTunnelVersion,
  connectHeaders,
  TUNNEL_VERSION_HEADER,
  websocketDuplex,
  YamuxSession,
} from "../tunnel/mod.ts";
import { MCA_VERSION } from "../version.ts";
import { type AgentHandler, createAgentHandler } from "./agent_handler.ts";
import { createHubCalls, tunnelTls } from "./hub_calls.ts";
import { type AgentCredentials, fileCredentials, secretCredentials } from "./agent_credentials.ts";
import { AgentSecret } from "./agent_secret.ts";
import { type AgentMetrics, createAgentMetrics, reconnectReason } from "./agent_metrics.ts";
import { reconnectDelayMs, type ResolvedAgentOptions } from "./agent_options.ts";

/** A running agent. */
export interface RunningAgent {
  isConnected(): boolean;
  /** Stops taking new requests, lets open ones finish (up to the grace period), then disconnects. */
  stop(graceMs?: number): Promise<void>;
}

/** What dialing the hub needs, fixed for the agent's life. */
interface Dialer {
  options: ResolvedAgentOptions;
  hubCa: string;
  agentId: string;
  member: Upstream;
  serveStream: AgentHandler;
  metrics: AgentMetrics;
  logger: Logger;
  credentials: AgentCredentials;
}

/** The connection loop's state: the current session, and how to stop waiting for the next. */
interface Connection {
  session: YamuxSession | undefined;
  /** A move to a new session (a new token) in progress. */
  replacing: Promise<void>;
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
  const hubCa = await readPinnedHubCa(options);
  const memberConfig = await loadClientConfigOrInCluster({
    ...(options.memberKubeconfig ? { kubeconfig: options.memberKubeconfig } : {}),
    ...(options.memberContext ? { context: options.memberContext } : {}),
  });
  const member = createUpstream(options.cluster, memberConfig, { logger });
  const connection: Connection = {
    session: undefined,
    replacing: Promise.resolve(),
    stopping: false,
    wake: undefined,
  };
  const isConnected = () => connection.session !== undefined && !connection.session.isClosed;
  const registry = createMetricsRegistry();
  registerProcessMetrics(registry);
  const metrics = createAgentMetrics(
    registry,
    () => isConnected() ? connection.session!.streamCount : 0,
  );
  const serveStream = createAgentHandler(member, options.cluster, logger, {
    requestDuration: metrics.requestDuration,
  });
  const agentId = crypto.randomUUID();
  const credentials = agentCredentials(options, {
    memberConfig,
    hubCa,
    agentId,
    logger,
    onTokenChange: () => {
      connection.replacing = connection.replacing.then(() => replaceSession(dialer, connection));
    },
  });
  const dialer: Dialer = {
    options,
    hubCa,
    agentId,
    member,
    serveStream,
    metrics,
    logger,
    credentials,
  };
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
      credentials.stop();
      connection.wake?.();
      await connection.replacing;
      await drain(connection.session, graceMs);
      await loop;
      await health?.shutdown();
      member.close();
    },
  };
}

/** The token in the agent's Secret (joins and rotations), else in --token-file. */
function agentCredentials(
  options: ResolvedAgentOptions,
  deps: {
    memberConfig: ClientConfig;
    hubCa: string;
    agentId: string;
    logger: Logger;
    onTokenChange: () => void;
  },
): AgentCredentials {
  if (!options.agentSecret) return fileCredentials(options.tokenFile);
  const client = createKubeClient(createKubeTransport(deps.memberConfig, { logger: deps.logger }));
  return secretCredentials({
    secret: new AgentSecret(client, options.agentSecret),
    hub: createHubCalls(options, deps),
    logger: deps.logger,
    rotationIntervalMs: options.tokenRotationIntervalMs,
    onTokenChange: deps.onTokenChange,
  });
}

/** The hub's CA, checked against the pin given apart from it. */
async function readPinnedHubCa(options: ResolvedAgentOptions): Promise<string> {
  const hubCa = await Deno.readTextFile(options.hubCaFile).catch((error) => {
    throw new Error(
      `Cannot read --hub-ca-file "${options.hubCaFile}": ${(error as Error).message}`,
    );
  });
  const pin = await computeCaPin(hubCa);
  if (pin !== options.hubCaPin) {
    throw new Error(
      `The hub CA in "${options.hubCaFile}" does not match --hub-ca-pin (it is ${pin}); refusing to connect`,
    );
  }
  return hubCa;
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
      const error = await untilClosed(connection);
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

/** The session being served, until it closes without having been replaced. */
async function untilClosed(connection: Connection): Promise<Error | undefined> {
  for (;;) {
    const session = connection.session!;
    const error = await session.closed;
    if (connection.session === session || connection.stopping) return error;
  }
}

/**
 * Moves to a session dialed with the new token, then drains the old one: the hub sends new
 * requests to the new session from its first moment, and open ones finish on the old.
 */
async function replaceSession(dialer: Dialer, connection: Connection): Promise<void> {
  const old = connection.session;
  if (!old || old.isClosed || connection.stopping) return;
  let next;
  try {
    next = await dialHub(dialer);
  } catch (error) {
    // The old session stays until the hub ends it; then the loop dials again.
    dialer.logger.warn("cannot open a session with the new token", {
      error: (error as Error).message,
    });
    return;
  }
  if (connection.session !== old || connection.stopping) return void await next.close();
  connection.session = next;
  dialer.logger.info("moved to a session with the new token; draining the old one", {
    agent: dialer.agentId,
  });
  await drain(old, 30_000);
}

/** Opens the WebSocket to the hub and runs a yamux session on it, serving the hub's streams. */
async function dialHub(dialer: Dialer): Promise<YamuxSession> {
  const ws = await openWebSocket(dialer);
  // Frames are small and come in bursts (a response head, then its body): Nagle's algorithm
  // would hold each burst's tail for the peer's delayed ACK (~40 ms).
  (ws as unknown as { _socket?: { setNoDelay?: (on: boolean) => void } })._socket?.setNoDelay?.(
    true,
  );
  const countBytes = (direction: string, bytes: number) =>
    dialer.metrics.bytes.inc({ direction }, bytes);
  return new YamuxSession(websocketDuplex(ws, countBytes), {
    client: true,
    keepAliveIntervalMs: dialer.options.keepaliveIntervalMs,
    keepAliveTimeoutMs: 10_000,
    onStream: (stream) => {
      dialer.logger.debug("tunnel stream opened", { stream: stream.id });
      void dialer.serveStream(stream);
    },
  });
}

/** The connect request (token, tunnel contract headers), open once the hub agreed a version. */
async function openWebSocket(dialer: Dialer): Promise<WebSocket> {
  const { options } = dialer;
  const token = await dialer.credentials.token();
  const createConnection = options.hubProxy ? await tunnelTls(options) : undefined;
  const ws = new WebSocket(new URL("/connect", options.hubUrl), {
    ...(createConnection ? { createConnection } : {}),
    ca: dialer.hubCa,
    // Never skipped: the hub must present a certificate of the pinned CA.
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
  await new Promise<void>((resolve, reject) => {
    ws.once("upgrade", (response: { headers: Record<string, string | string[] | undefined> }) => {
      if (agreedTunnelVersion(response.headers[TUNNEL_VERSION_HEADER]) === undefined) {
        ws.terminate();
        reject(new Error("the hub speaks no tunnel version this agent speaks: upgrade the hub"));
      }
    });
    ws.once("open", () => resolve());
    ws.once("unexpected-response", (_request: unknown, response: { statusCode?: number }) => {
      if (response.statusCode === 401) dialer.credentials.invalidate();
      reject(new Error(`the hub refused the connection: HTTP ${response.statusCode}`));
    });
    ws.once("error", reject);
  });
  return ws;
}

/** The member's version (`/version`), told to the hub at connect; empty when unknown. */
async function memberVersion(member: Upstream): Promise<string> {
  try {
    const response = await member.request({
      method: "GET",
      path: "/version",
      headers: { accept: "application/json" },
    });
    let text = "";
    for await (const chunk of response) text += chunk;
    return (JSON.parse(text) as { gitVersion?: string }).gitVersion ?? "";
  } catch {
    return "";
  }
}

/**
 * Tells the hub to open no more streams here (GoAway), lets in-flight streams finish (up to the
 * grace period), then closes.
 */
async function drain(session: YamuxSession | undefined, graceMs: number): Promise<void> {
  if (!session || session.isClosed) return;
  await session.goAway().catch(() => {});
  const deadline = Date.now() + graceMs;
  while (session.streamCount > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  await session.close();
}
