/** `mca hub`: TLS listener with a CA shared through a Secret, agent sessions, member access, status. */
import {
  createKubeClient,
  createKubeTransport,
  type KubeClient,
  loadClientConfigOrInCluster,
} from "../kube/mod.ts";
import { createLogger, type Logger } from "../log/mod.ts";
import {
  type IssuedCertificate,
  type RenewedCertificate,
  startCertificateRenewal,
} from "../pki/mod.ts";
import { firstCertificates, followRollover, type hubCertificates } from "./hub_ca.ts";
import { HubTrust } from "./hub_trust.ts";
import { AgentSessions } from "./agent_sessions.ts";
import { watchAgentTokens } from "./agent_token_watch.ts";
import { writeClusterStatuses } from "./cluster_status.ts";
import { createHubHandler, type HubHandler } from "./hub_handler.ts";
import { hubHandlerDeps } from "./hub_handler_deps.ts";
import type { ResolvedHubOptions } from "./hub_options.ts";
import { PeerUpstreams } from "./hub_peers.ts";
import { type ReplicaDirectory, startReplicaDirectory } from "./hub_replicas.ts";
import { listenHttp1 } from "../http1/mod.ts";
import { statusRefusalBody } from "../forward/mod.ts";
import { publicEntrance } from "./aggregated_entrance.ts";
import type { PublicTls } from "./public_tls.ts";
import { type HubServers, stopHub } from "./hub_stop.ts";

/** A running hub. */
export interface RunningHub {
  url: string;
  port: number;
  caPem: string;
  sessions: AgentSessions;
  stop(): Promise<void>;
}

/** Starts the hub. */
export async function runHub(
  options: ResolvedHubOptions,
  deps: { logger?: Logger } = {},
): Promise<RunningHub> {
  const logger = deps.logger ??
    createLogger({ level: options.logLevel, format: options.logFormat });
  const client = createKubeClient(
    createKubeTransport(await loadClientConfigOrInCluster(options), { logger }),
  );
  const { hubCa, cas, certificates, serving, peerCertificate } = await firstCertificates(
    client,
    options,
  );
  const sessions = new AgentSessions();
  const trust = new HubTrust(hubCa.trust, logger, options.replica?.id);
  const directory = startDirectory(client, { options, sessions, logger });
  const peers = new PeerUpstreams(cas.bundle, peerCertificate);
  const followed = { tokens: false, clusters: new Set<string>() };
  const lifecycle = { stopping: false };
  const hubCaPem = () => cas.bundle;
  const { publicTls, aggregated } = publicEntrance(client, options, { serving, hubCaPem, logger });
  const frontProxy = aggregated?.authenticator;
  const handler = createHubHandler(
    hubHandlerDeps(client, {
      options,
      sessions,
      directory,
      peers,
      followed,
      lifecycle,
      frontProxy,
      trust,
    }),
  );
  const servers = await listenHub(options, handler, { publicTls, caPem: cas.bundle });
  const { port } = servers.server;
  const url = listeningUrl(options, port);
  logger.info("hub listening", { url, namespace: options.namespace });

  const renew = () =>
    renewCertificates(certificates, { servers, publicTls, peers, caPem: cas.bundle });
  const background = startBackground(client, {
    options,
    sessions,
    followed,
    rollover: { hubCa, cas, renew, trust },
    notAfter: earliest(serving, peerCertificate),
  });

  return {
    url,
    port,
    caPem: cas.bundle,
    sessions,
    stop: async () => {
      lifecycle.stopping = true;
      await stopHub({
        client,
        sessions,
        servers,
        directory,
        delayMs: options.shutdownDelayMs,
        logger,
        stopBackground: () => background.stop(() => directory?.stop()),
        release: async () => {
          peers.close();
          await aggregated?.stop();
        },
      });
    },
  };
}

/** The URL the hub answers on, as logged (loopback for a wildcard listener). */
function listeningUrl(options: ResolvedHubOptions, port: number): string {
  const host = options.listen.hostname === "0.0.0.0" ? "127.0.0.1" : options.listen.hostname;
  return `https://${host}:${port}`;
}

/**
 * What runs beside the listeners: following the agent tokens, renewing the certificates,
 * following the CA Secret for rollover phases (hub_ca.ts), and the status heartbeat.
 */
function startBackground(client: KubeClient, parts: {
  options: ResolvedHubOptions;
  sessions: AgentSessions;
  followed: { tokens: boolean; clusters: Set<string> };
  rollover: Omit<Parameters<typeof followRollover>[1], "options" | "sessions" | "signal">;
  notAfter: Date;
}): { stop(before: () => Promise<void> | undefined): Promise<void> } {
  const { options, sessions, followed, rollover } = parts;
  const { logger } = rollover.trust;
  const stopping = new AbortController();
  const { signal } = stopping;
  const watching = watchAgentTokens(client, options.namespace, {
    sessions,
    logger,
    signal,
    onFollowing: (following) => followed.tokens = following,
    registered: followed.clusters,
  });
  const renewal = startCertificateRenewal({
    validityMs: options.certValidityMs,
    notAfter: parts.notAfter,
    renew: rollover.renew,
    logger,
  });
  const following = followRollover(client, { ...rollover, options, sessions, signal });
  const beat = () => writeClusterStatuses(client, sessions, { trust: rollover.trust, logger });
  const heartbeat = setInterval(beat, 30_000);
  return {
    async stop(before) {
      clearInterval(heartbeat);
      await renewal.stop();
      await before();
      stopping.abort();
      await Promise.all([watching, following]);
    },
  };
}

/** With replicas, publishes this one's Lease and finds the others'. */
function startDirectory(
  client: KubeClient,
  { options, sessions, logger }: {
    options: ResolvedHubOptions;
    sessions: AgentSessions;
    logger: Logger;
  },
): ReplicaDirectory | undefined {
  if (!options.replica) return undefined;
  return startReplicaDirectory(client, {
    namespace: options.namespace,
    replicaId: options.replica.id,
    peerUrl: options.replica.peerUrl,
    clusters: () => sessions.clusters().filter((c) => sessions.agents(c).length > 0),
    logger,
  });
}

/**
 * Listens publicly and, with replicas, on a listener of their own where a client certificate of
 * the shared CA is required.
 */
async function listenHub(
  options: ResolvedHubOptions,
  handler: HubHandler,
  { publicTls, caPem }: { publicTls: PublicTls; caPem: string },
): Promise<HubServers> {
  const handlers = {
    request: handler.handleRequest,
    upgrade: handler.handleUpgrade,
    refusalBody: statusRefusalBody,
  };
  const server = await listenHttp1({ ...options.listen, tls: publicTls.options() }, handlers);
  publicTls.attach(server);
  const tls = { cert: publicTls.options().cert, key: publicTls.options().key };
  const peerServer = options.replica
    ? await listenHttp1({
      ...options.replica.listen,
      tls: { ...tls, ca: caPem, requestCert: true },
    }, handlers)
    : undefined;
  return { server, peerServer };
}

/** Issues new serving and peer certificates and puts them in use. */
async function renewCertificates(
  certificates: ReturnType<typeof hubCertificates>,
  { servers, publicTls, peers, caPem }: {
    servers: HubServers;
    publicTls: PublicTls;
    peers: PeerUpstreams;
    caPem: string;
  },
): Promise<RenewedCertificate> {
  const { peerServer } = servers;
  const nextServing = await certificates.serving();
  const nextPeer = await certificates.peer();
  const tls = { cert: nextServing.certificatePem, key: nextServing.privateKeyPem };
  publicTls.setServing(nextServing);
  // requestCert belongs to the server and stays; the CA that checks replicas belongs to the context.
  peerServer?.setSecureContext({ ...tls, ca: caPem });
  peers.renew(nextPeer, caPem);
  return {
    notAfter: earliest(nextServing, nextPeer),
    fields: { peerNotAfter: nextPeer.certificate.notAfter.toISOString() },
  };
}

/** The end of the certificate that ends first. */
function earliest(a: IssuedCertificate, b: IssuedCertificate): Date {
  return a.certificate.notAfter < b.certificate.notAfter
    ? a.certificate.notAfter
    : b.certificate.notAfter;
}
