/**
 * `mca agent`: dials the hub over wss (verifying it against the pinned CA), serves the hub's
 * yamux streams against its own API server, reconnects with backoff and jitter, and is ready
 * only while connected.
 */
// @ts-types="npm:@types/ws@8.18.1"
import { WebSocket } from "ws";
import { loadClientConfigOrInCluster } from "../kube/mod.ts";
import { createLogger, type Logger } from "../log/mod.ts";
import { computeCaPin } from "../pki/mod.ts";
import { createUpstream } from "../forward/mod.ts";
import {
  agreedTunnelVersion,
  connectHeaders,
  TUNNEL_VERSION_HEADER,
  websocketDuplex,
  YamuxSession,
} from "../tunnel/mod.ts";
import { MCA_VERSION } from "../version.ts";
import { createAgentHandler } from "./agent_handler.ts";
import { reconnectDelayMs, type ResolvedAgentOptions } from "./agent_options.ts";

/** A running agent. */
export interface RunningAgent {
  isConnected(): boolean;
  /** Stops taking new requests, lets open ones finish (up to the grace period), then disconnects. */
  stop(graceMs?: number): Promise<void>;
}

/** Starts the agent; it keeps reconnecting until stopped. */
export async function runAgent(
  options: ResolvedAgentOptions,
  deps: { logger?: Logger } = {},
): Promise<RunningAgent> {
  const logger = deps.logger ??
    createLogger({ level: options.logLevel, format: options.logFormat });
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
  const memberConfig = await loadClientConfigOrInCluster({
    ...(options.memberKubeconfig ? { kubeconfig: options.memberKubeconfig } : {}),
    ...(options.memberContext ? { context: options.memberContext } : {}),
  });
  const member = createUpstream(options.cluster, memberConfig, { logger });
  const serveStream = createAgentHandler(member, options.cluster, logger);
  const agentId = crypto.randomUUID();
  let session: YamuxSession | undefined;
  let stopping = false;
  let wake: (() => void) | undefined;

  const health = options.healthListen
    ? Deno.serve({ ...options.healthListen, onListen() {} }, (request) => {
      const path = new URL(request.url).pathname;
      if (path === "/healthz") return new Response("ok");
      if (path === "/readyz") {
        return session && !session.isClosed
          ? new Response("ok")
          : new Response("not connected", { status: 503 });
      }
      return new Response("not found", { status: 404 });
    })
    : undefined;

  const memberVersion = async () => {
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
  };

  const connectOnce = async (): Promise<YamuxSession> => {
    const token = (await Deno.readTextFile(options.tokenFile)).trim();
    const url = new URL("/connect", options.hubUrl);
    const ws = new WebSocket(url, {
      ca: hubCa,
      // Never skipped: the hub must present a certificate of the pinned CA.
      rejectUnauthorized: true,
      headers: {
        Authorization: `Bearer ${token}`,
        ...connectHeaders({
          cluster: options.cluster,
          agentId,
          memberVersion: await memberVersion(),
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
        reject(new Error(`the hub refused the connection: HTTP ${response.statusCode}`));
      });
      ws.once("error", reject);
    });
    // Frames are small and come in bursts (a response head, then its body): Nagle's algorithm
    // would hold each burst's tail for the peer's delayed ACK (~40 ms).
    (ws as unknown as { _socket?: { setNoDelay?: (on: boolean) => void } })._socket?.setNoDelay?.(
      true,
    );
    return new YamuxSession(websocketDuplex(ws), {
      client: true,
      keepAliveIntervalMs: 15_000,
      keepAliveTimeoutMs: 10_000,
      onStream: (stream) => {
        logger.debug("tunnel stream opened", { stream: stream.id });
        void serveStream(stream);
      },
    });
  };

  const loop = (async () => {
    let attempt = 0;
    while (!stopping) {
      try {
        session = await connectOnce();
        attempt = 0;
        logger.info("connected to the hub", {
          hub: options.hubUrl.origin,
          cluster: options.cluster,
          agent: agentId,
        });
        const error = await session.closed;
        logger.warn("disconnected from the hub", { error: error?.message });
      } catch (error) {
        logger.warn("cannot connect to the hub", {
          hub: options.hubUrl.origin,
          error: (error as Error).message,
        });
      }
      if (stopping) break;
      const delay = reconnectDelayMs(attempt++);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  })();

  return {
    isConnected: () => session !== undefined && !session.isClosed,
    async stop(graceMs = 30_000) {
      stopping = true;
      wake?.();
      const current = session;
      if (current && !current.isClosed) {
        // Drain: in-flight streams may finish, then say goodbye.
        const deadline = Date.now() + graceMs;
        while (current.streamCount > 0 && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 50));
        }
        await current.close();
      }
      await loop;
      await health?.shutdown();
      member.close();
    },
  };
}
