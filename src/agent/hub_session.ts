/**
 * The agent's session with the hub: dialing (the token, the tunnel contract's headers, the
 * egress proxy), the reconnect loop with backoff, moving to a new session when the token
 * changes, and draining a session that goes away.
 */
// @ts-types="npm:@types/ws@8.18.1"
import { WebSocket } from "ws";
import type { Logger } from "../log/mod.ts";
import type { Upstream } from "../forward/mod.ts";
import {
  agreedTunnelVersion,
  connectHeaders,
  type Duplex,
  TRUST_CHANNEL_VERSION,
  TUNNEL_VERSION_HEADER,
  websocketDuplex,
  YamuxSession,
} from "../tunnel/mod.ts";
import { MCA_VERSION } from "../version.ts";
import type { AgentHandler } from "./agent_handler.ts";
import { type AgentMetrics, reconnectReason } from "./agent_metrics.ts";
import { reconnectDelayMs, type ResolvedAgentOptions } from "./agent_options.ts";
import type { AgentCredentials } from "./agent_credentials.ts";
import { tunnelTls } from "./hub_calls.ts";
import { type AgentTrust, requestStreamCount, serveTrustStream } from "./agent_trust.ts";

/** What dialing the hub needs, fixed for the agent's life. */
export interface Dialer {
  options: ResolvedAgentOptions;
  /** The hub CAs trusted now (pinned, or learned during a CA rollover). */
  trust: AgentTrust;
  agentId: string;
  member: Upstream;
  serveStream: AgentHandler;
  metrics: AgentMetrics;
  logger: Logger;
  credentials: AgentCredentials;
  /** The connection loop's state, which a hub's GoAway moves to a new session. */
  connection: Connection;
}

/** The connection loop's state: the current session, and how to stop waiting for the next. */
export interface Connection {
  session?: YamuxSession;
  /** A move to a new session (a new token) in progress. */
  replacing: Promise<void>;
  /** Sessions moved away from that a stopping hub replica may still use, until it ends them. */
  retiring: Set<YamuxSession>;
  stopping: boolean;
  wake?: () => void;
}

/** Connects, serves until the session ends, waits a backoff, and again, until stopped. */
export async function keepConnected(dialer: Dialer, connection: Connection): Promise<void> {
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

/** Why the agent moves to a new session while the current one still serves. */
export type MoveReason = "new token" | "hub replica stopping";

/**
 * Moves to a new session, and lets the old one go once open requests are done: the hub sends
 * new requests to the new session from its first moment. With a new token the agent drains the
 * old session itself. When a hub replica stops (it said GoAway) the new session reaches another
 * replica (the Service no longer lists the stopping one), and the stopping replica keeps using
 * the old one for requests other replicas still forward to it, until it closes it.
 */
export async function replaceSession(
  dialer: Dialer,
  connection: Connection,
  reason: MoveReason = "new token",
): Promise<void> {
  const old = connection.session;
  if (!old || old.hasEnded || connection.stopping) return;
  if (reason === "new token" && old.isClosed) return;
  const next = await dialNext(dialer, old, reason);
  if (!next) return;
  if (connection.session !== old || connection.stopping) return void await next.close();
  connection.session = next;
  dialer.logger.info("moved to a new session; the old one ends when its requests are done", {
    reason,
    agent: dialer.agentId,
  });
  if (reason === "new token") return await drain(old, 30_000);
  // The stopping replica closes it; if it does not, the agent drains it after a while.
  connection.retiring.add(old);
  const timer = setTimeout(() => void drain(old, 30_000), STOPPING_HUB_WAIT_MS);
  void old.closed.then(() => {
    clearTimeout(timer);
    connection.retiring.delete(old);
  });
}

/**
 * Dials the new session; a stopping replica is retried a few times (a dial may still reach
 * it before the endpoints change, and it refuses agents). Undefined when none could be opened:
 * the old session stays until the hub ends it, then the reconnect loop dials again.
 */
async function dialNext(
  dialer: Dialer,
  old: YamuxSession,
  reason: MoveReason,
): Promise<YamuxSession | undefined> {
  const attempts = reason === "hub replica stopping" ? 5 : 1;
  for (let attempt = 1;; attempt++) {
    try {
      return await dialHub(dialer);
    } catch (error) {
      dialer.logger.warn("cannot open a new session", {
        reason,
        attempt,
        error: (error as Error).message,
      });
      if (attempt >= attempts || old.hasEnded) return undefined;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }
}

/**
 * A hub replica that stops says GoAway and keeps the session while it still needs it: the
 * agent moves. A GoAway that ends the session (a hub closing at once, a protocol error) is
 * the reconnect loop's, with its backoff, so a hub that says it again and again cannot make
 * the agent redial in a loop.
 */
function onHubGoAway(dialer: Dialer, session: YamuxSession, code: number): void {
  if (code !== GOAWAY_NORMAL) return;
  setTimeout(() => {
    if (!session.hasEnded && dialer.connection.session === session) {
      dialer.connection.replacing = dialer.connection.replacing.then(() =>
        replaceSession(dialer, dialer.connection, "hub replica stopping")
      );
    }
  }, SETTLE_MS);
}

const GOAWAY_NORMAL = 0;
/** A GoAway followed by the end of the session is seen ending within this. */
const SETTLE_MS = 200;
/** How long a stopping replica may keep the old session before the agent drains it itself. */
const STOPPING_HUB_WAIT_MS = 60_000;

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
    onGoAway: (code) => onHubGoAway(dialer, session, code),
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
  const token = await dialer.credentials.token();
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
      if (response.statusCode === 401) dialer.credentials.invalidate();
      reject(new Error(`the hub refused the connection: HTTP ${response.statusCode}`));
    });
    ws.once("error", reject);
  });
  return { ws, duplex: duplex!, version };
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
export async function drain(session: YamuxSession | undefined, graceMs: number): Promise<void> {
  if (!session || session.isClosed) return;
  await session.goAway().catch(() => {});
  const deadline = Date.now() + graceMs;
  // A stream the hub opened before it read the GoAway arrives before the answer to this ping
  // (frames keep their order): counted only after it, no such stream is cut off.
  await Promise.race([
    session.ping().catch(() => {}),
    new Promise((resolve) => setTimeout(resolve, Math.min(graceMs, 10_000))),
  ]);
  // The trust stream lives as long as the session: only requests are waited for.
  while (requestStreamCount(session) > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  await session.close();
}
