/** `mca hub`: TLS listener with a CA shared through a Secret, agent sessions, member access, status. */
import {
  createKubeClient,
  createKubeTransport,
  type KubeClient,
  loadClientConfigOrInCluster,
} from "../kube/mod.ts";
import { createLogger, type Logger } from "../log/mod.ts";
import {
  createMetricsRegistry,
  type MetricsRegistry,
  registerProcessMetrics,
} from "../metrics/mod.ts";
import {
  type CertificateAuthority,
  DAY_MS,
  issueCertificate,
  type IssuedCertificate,
  type RenewedCertificate,
  startCertificateRenewal,
} from "../pki/mod.ts";
import { ensureSharedCa } from "../common/mod.ts";
import { AgentSessions } from "./agent_sessions.ts";
import { hostTokenStore } from "./agent_token_store.ts";
import { watchAgentTokens } from "./agent_token_watch.ts";
import { ClusterIdentities } from "./cluster_identity.ts";
import { writeClusterStatus } from "./cluster_status.ts";
import { createHubHandler, type HubHandler, type HubHandlerDeps } from "./hub_handler.ts";
import type { ResolvedHubOptions } from "./hub_options.ts";
import { isPeerRequest, PEER_COMMON_NAME, PeerUpstreams } from "./hub_peers.ts";
import { UserAccess } from "./user_access.ts";
import { type ReplicaDirectory, startReplicaDirectory } from "./hub_replicas.ts";
import { type Http1Server, listenHttp1 } from "../http1/mod.ts";
import { statusRefusalBody } from "../forward/mod.ts";
import { publicEntrance } from "./aggregated_entrance.ts";
import type { PublicTls } from "./public_tls.ts";
import type { FrontProxyAuthenticator } from "./front_proxy.ts";

/** A running hub. */
export interface RunningHub {
  url: string;
  port: number;
  caPem: string;
  sessions: AgentSessions;
  stop(): Promise<void>;
}

/** The hub's listeners: the public one, and the one for other replicas (mutual TLS). */
interface HubServers {
  server: Http1Server;
  peerServer: Http1Server | undefined;
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
  const { shared, certificates, serving, peerCertificate } = await firstCertificates(
    client,
    options,
  );
  const sessions = new AgentSessions();
  const directory = startDirectory(client, { options, sessions, logger });
  const peers = new PeerUpstreams(shared.bundlePem, peerCertificate);
  const followed = { tokens: false, clusters: new Set<string>() };
  const { publicTls, aggregated } = publicEntrance(client, options, { serving, shared, logger });
  const frontProxy = aggregated?.authenticator;
  const handler = createHubHandler(
    hubHandlerDeps(client, { options, sessions, directory, peers, followed, frontProxy, logger }),
  );
  const servers = await listenHub(options, handler, { publicTls, caPem: shared.bundlePem });
  const port = servers.server.port;
  const host = options.listen.hostname === "0.0.0.0" ? "127.0.0.1" : options.listen.hostname;
  logger.info("hub listening", { url: `https://${host}:${port}`, namespace: options.namespace });

  const stopping = new AbortController();
  const watching = watchAgentTokens(client, options.namespace, {
    sessions,
    logger,
    signal: stopping.signal,
    onFollowing: (following) => followed.tokens = following,
    registered: followed.clusters,
  });
  const renewal = startCertificateRenewal({
    validityMs: options.certValidityMs,
    notAfter: earliest(serving, peerCertificate),
    renew: () =>
      renewCertificates(certificates, { servers, publicTls, peers, caPem: shared.bundlePem }),
    logger,
  });
  const heartbeat = setInterval(() => writeStatuses(client, sessions, logger), 30_000);

  return {
    url: `https://${host}:${port}`,
    port,
    caPem: shared.bundlePem,
    sessions,
    stop: async () => {
      clearInterval(heartbeat);
      await renewal.stop();
      await directory?.stop();
      peers.close();
      stopping.abort();
      await watching;
      await aggregated?.stop();
      await closeHub(client, sessions, servers);
    },
  };
}

/** Writes the status of every cluster with agents here (a heartbeat the Cluster objects show). */
function writeStatuses(client: KubeClient, sessions: AgentSessions, logger: Logger): void {
  for (const cluster of sessions.clusters()) {
    void writeClusterStatus(client, sessions, cluster, logger);
  }
}

/** Closes the agents' sessions, then the listeners and the host connection. */
async function closeHub(
  client: KubeClient,
  sessions: AgentSessions,
  { server, peerServer }: HubServers,
): Promise<void> {
  for (const cluster of sessions.clusters()) {
    await Promise.all(sessions.agents(cluster).map((agent) => agent.session.close()));
  }
  await server.close();
  await peerServer?.close();
  client.transport.close();
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

/** The handler's deps on the host cluster: access checks, token hashes, status, replicas. */
function hubHandlerDeps(client: KubeClient, parts: {
  options: ResolvedHubOptions;
  sessions: AgentSessions;
  directory: ReplicaDirectory | undefined;
  peers: PeerUpstreams;
  /** Whether the agent tokens are followed, and the registered clusters they name. */
  followed: { tokens: boolean; clusters: Set<string> };
  frontProxy: FrontProxyAuthenticator | undefined;
  logger: Logger;
}): HubHandlerDeps {
  const { options, sessions, directory, peers, followed, frontProxy, logger } = parts;
  const identities = new ClusterIdentities(client);
  return {
    sessions,
    access: new UserAccess(client),
    identityOf: (cluster) => identities.of(cluster),
    tokens: hostTokenStore(client, options.namespace, options.agentTokenOverlapMs),
    onAgentChange: (cluster) => {
      directory?.update();
      void writeClusterStatus(client, sessions, cluster, logger);
    },
    ...(directory
      ? {
        findPeer: (cluster: string) => directory.findPeer(cluster),
        peerUpstream: (peerUrl: string) => peers.upstreamFor(peerUrl),
      }
      : {}),
    // Only on the peer listener: the public one verifies client certificates too, against the
    // host's front-proxy CA, and a certificate from there must never pass for a replica's.
    isPeer: (req) => req.socket.localPort === options.replica?.listen.port && isPeerRequest(req),
    ...(frontProxy ? { frontProxy } : {}),
    // Ready while the hub follows agent tokens on the host (so revocations take effect) and,
    // with replicas, while its Lease lets the others find it.
    notReady: () =>
      !followed.tokens
        ? "cannot follow the agent tokens on the host (see the log)"
        : directory && !directory.isPublished()
        ? "cannot publish this replica's Lease on the host (see the log)"
        : undefined,
    metrics: processRegistry(),
    registeredClusters: () => followed.clusters,
    logger,
  };
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
  peers.renew(nextPeer);
  return {
    notAfter: earliest(nextServing, nextPeer),
    fields: { peerNotAfter: nextPeer.certificate.notAfter.toISOString() },
  };
}

/** The CA shared through a Secret (created on the first start), and this replica's certificates. */
async function firstCertificates(client: KubeClient, options: ResolvedHubOptions) {
  const shared = await ensureSharedCa(client, {
    namespace: options.namespace,
    name: options.caSecret,
    commonName: "mca-hub-ca",
  });
  // The hub CA is never rotated here: agents pin it. The certificates it signs are renewed.
  const certificates = hubCertificates(shared.ca, options);
  const serving = await certificates.serving();
  // Replicas prove themselves to each other with a client certificate of the shared CA.
  const peerCertificate = await certificates.peer();
  return { shared, certificates, serving, peerCertificate };
}

/** Issuers of the hub's serving certificate and of the client certificate replicas present. */
function hubCertificates(ca: CertificateAuthority, options: ResolvedHubOptions) {
  const validityDays = options.certValidityMs / DAY_MS;
  return {
    serving: () =>
      issueCertificate(ca, {
        commonName: options.dnsNames[0] ?? options.ipAddresses[0] ?? "mca-hub",
        dnsNames: options.dnsNames,
        ipAddresses: options.ipAddresses,
        validityDays,
      }),
    peer: () =>
      issueCertificate(ca, { commonName: PEER_COMMON_NAME, usages: ["client"], validityDays }),
  };
}

/** The end of the certificate that ends first. */
function earliest(a: IssuedCertificate, b: IssuedCertificate): Date {
  return a.certificate.notAfter < b.certificate.notAfter
    ? a.certificate.notAfter
    : b.certificate.notAfter;
}

/** The hub's metrics registry, with build info and process metrics. */
function processRegistry(): MetricsRegistry {
  const registry = createMetricsRegistry();
  registerProcessMetrics(registry);
  return registry;
}
