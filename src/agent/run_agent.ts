/**
 * `mca agent`: dials the hub over wss (verifying it against the pinned CA), serves the hub's
 * yamux streams against its own API server, reconnects with backoff and jitter, and is ready
 * only while connected.
 */
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
import { AgentTrust, requestStreamCount } from "./agent_trust.ts";
import { secretTrustStore } from "./trust_secret.ts";
import { createUpstream } from "../forward/mod.ts";
import { createAgentHandler } from "./agent_handler.ts";
import { createHubCalls } from "./hub_calls.ts";
import { type AgentCredentials, fileCredentials, secretCredentials } from "./agent_credentials.ts";
import { AgentSecret } from "./agent_secret.ts";
import { createAgentMetrics } from "./agent_metrics.ts";
import type { ResolvedAgentOptions } from "./agent_options.ts";
import {
  type Connection,
  type Dialer,
  drain,
  keepConnected,
  replaceSession,
} from "./hub_session.ts";

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
  const memberConfig = await loadClientConfigOrInCluster({
    ...(options.memberKubeconfig ? { kubeconfig: options.memberKubeconfig } : {}),
    ...(options.memberContext ? { context: options.memberContext } : {}),
  });
  const trust = await loadTrust(options, memberConfig, logger);
  // The join and token calls verify the hub with the CAs trusted now, as the tunnel's dial does.
  const hubCa = () => trust.bundle;
  const member = createUpstream(options.cluster, memberConfig, { logger, passImpersonation: true });
  const connection: Connection = {
    replacing: Promise.resolve(),
    retiring: new Set(),
    stopping: false,
  };
  const isConnected = () => connection.session !== undefined && !connection.session.isClosed;
  const { registry, metrics } = agentRegistry(() =>
    isConnected() ? requestStreamCount(connection.session!) : 0
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
    trust,
    agentId,
    member,
    serveStream,
    metrics,
    logger,
    credentials,
    connection,
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
      await Promise.all(
        [connection.session, ...connection.retiring].map((session) => drain(session, graceMs)),
      );
      await loop;
      await health?.shutdown();
      member.close();
    },
  };
}

/** The agent's metrics, with build info and process metrics. */
function agentRegistry(openStreams: () => number) {
  const registry = createMetricsRegistry();
  registerProcessMetrics(registry);
  return { registry, metrics: createAgentMetrics(registry, openStreams) };
}

/** The token in the agent's Secret (joins and rotations), else in --token-file. */
function agentCredentials(
  options: ResolvedAgentOptions,
  deps: {
    memberConfig: ClientConfig;
    hubCa: () => string;
    agentId: string;
    logger: Logger;
    onTokenChange: () => void;
  },
): AgentCredentials {
  if (!options.agentSecret) return fileCredentials(options.tokenFile);
  const client = createKubeClient(createKubeTransport(deps.memberConfig, { logger: deps.logger }));
  const credentials = secretCredentials({
    secret: new AgentSecret(client, options.agentSecret),
    hub: createHubCalls(options, deps),
    logger: deps.logger,
    rotationIntervalMs: options.tokenRotationIntervalMs,
    onTokenChange: deps.onTokenChange,
  });
  return {
    token: () => credentials.token(),
    invalidate: () => credentials.invalidate(),
    stop() {
      credentials.stop();
      client.transport.close();
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
