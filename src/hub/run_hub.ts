/** `mca hub`: TLS listener with a CA shared through a Secret, agent sessions, member access, status. */
import {
  createKubeClient,
  createKubeTransport,
  type KubeClient,
  loadClientConfigOrInCluster,
} from "../kube/mod.ts";
import { createLogger, type Logger } from "../log/mod.ts";
import { createMetricsRegistry } from "../metrics/mod.ts";
import {
  type CertificateAuthority,
  DAY_MS,
  issueCertificate,
  type IssuedCertificate,
  startCertificateRenewal,
} from "../pki/mod.ts";
import { ensureSharedCa } from "../common/mod.ts";
import { AgentSessions } from "./agent_sessions.ts";
import { AGENT_TOKEN_LABEL, registeredTokenHash } from "../members/mod.ts";
import { ClusterIdentities } from "./cluster_identity.ts";
import { writeClusterStatus } from "./cluster_status.ts";
import { createHubHandler } from "./hub_handler.ts";
import type { ResolvedHubOptions } from "./hub_options.ts";
import { UserAccess } from "./user_access.ts";
import { startReplicaDirectory } from "./hub_replicas.ts";
import type { TLSSocket } from "node:tls";
import { listenHttp1 } from "../http1/mod.ts";
import { createUpstream, statusRefusalBody, type Upstream } from "../forward/mod.ts";

/** Common name of the client certificate hub replicas present to each other. */
export const PEER_COMMON_NAME = "mca-hub-peer";

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
  const shared = await ensureSharedCa(client, {
    namespace: options.namespace,
    name: options.caSecret,
    commonName: "mca-hub-ca",
  });
  // The hub CA is never rotated here: agents pin it. The certificates it signs are renewed.
  const certificates = hubCertificates(shared.ca, options);
  const serving = await certificates.serving();
  // Replicas prove themselves to each other with a client certificate of the shared CA.
  let peerCertificate = await certificates.peer();
  const sessions = new AgentSessions();
  const metrics = createMetricsRegistry();
  const directory = options.replica
    ? startReplicaDirectory(client, {
      namespace: options.namespace,
      replicaId: options.replica.id,
      peerUrl: options.replica.peerUrl,
      clusters: () => sessions.clusters().filter((c) => sessions.agents(c).length > 0),
      logger,
    })
    : undefined;
  const peers = new Map<string, Upstream>();
  let retired: Upstream[] = [];
  let tokensFollowed = false;
  const identities = new ClusterIdentities(client);
  const handler = createHubHandler({
    sessions,
    access: new UserAccess(client),
    identityOf: (cluster) => identities.of(cluster),
    tokenHash: (cluster) => registeredTokenHash(client, options.namespace, cluster),
    onAgentChange: (cluster) => {
      directory?.update();
      void writeClusterStatus(client, sessions, cluster, logger);
    },
    ...(directory
      ? {
        findPeer: (cluster: string) => directory.findPeer(cluster),
        peerUpstream: (peerUrl: string) => {
          let upstream = peers.get(peerUrl);
          if (!upstream) {
            upstream = createUpstream(`hub replica ${peerUrl}`, {
              server: peerUrl,
              tls: {
                caPem: shared.bundlePem,
                certPem: peerCertificate.certificatePem,
                keyPem: peerCertificate.privateKeyPem,
                insecureSkipVerify: false,
              },
              disableCompression: false,
              credentials: { type: "none" },
              namespace: options.namespace,
              source: `hub replica ${peerUrl}`,
            }, { logger });
            peers.set(peerUrl, upstream);
          }
          return upstream;
        },
      }
      : {}),
    isPeer: (req) => {
      const socket = req.socket as TLSSocket;
      return socket.authorized === true &&
        socket.getPeerCertificate()?.subject?.CN === PEER_COMMON_NAME;
    },
    // Ready while the hub follows agent tokens on the host (so revocations take effect) and,
    // with replicas, while its Lease lets the others find it.
    notReady: () =>
      !tokensFollowed
        ? "cannot follow the agent tokens on the host (see the log)"
        : directory && !directory.isPublished()
        ? "cannot publish this replica's Lease on the host (see the log)"
        : undefined,
    metrics,
    logger,
  });
  const tls = { cert: serving.certificatePem, key: serving.privateKeyPem };
  const handlers = {
    request: handler.handleRequest,
    upgrade: handler.handleUpgrade,
    refusalBody: statusRefusalBody,
  };
  const server = await listenHttp1({ ...options.listen, tls }, handlers);
  // Replicas talk to each other on a listener of their own, where a client certificate of the
  // shared CA is required; the public listener never asks for one.
  const peerServer = options.replica
    ? await listenHttp1({
      ...options.replica.listen,
      tls: { ...tls, ca: shared.bundlePem, requestCert: true },
    }, handlers)
    : undefined;
  const port = server.port;
  const host = options.listen.hostname === "0.0.0.0" ? "127.0.0.1" : options.listen.hostname;
  logger.info("hub listening", { url: `https://${host}:${port}`, namespace: options.namespace });

  const stopping = new AbortController();
  // Rotated or deleted agent tokens close the sessions that used them.
  const watching = watchAgentTokens(
    client,
    options.namespace,
    sessions,
    logger,
    stopping.signal,
    (followed) => tokensFollowed = followed,
  );
  const renewal = startCertificateRenewal({
    validityMs: options.certValidityMs,
    notAfter: earliest(serving, peerCertificate),
    renew: async () => {
      const nextServing = await certificates.serving();
      const nextPeer = await certificates.peer();
      const tls = { cert: nextServing.certificatePem, key: nextServing.privateKeyPem };
      server.setSecureContext(tls);
      // requestCert belongs to the server and stays; the CA that checks replicas belongs to the context.
      peerServer?.setSecureContext({ ...tls, ca: shared.bundlePem });
      peerCertificate = nextPeer;
      // Upstreams to other replicas hold the old client certificate: drop them so that new
      // requests connect with the new one. Closing one cuts its requests under way (a forwarded
      // watch), so the dropped ones are closed only at the next renewal, when their certificate
      // has ended anyway.
      for (const upstream of retired) upstream.close();
      retired = [...peers.values()];
      peers.clear();
      return {
        notAfter: earliest(nextServing, nextPeer),
        fields: { peerNotAfter: nextPeer.certificate.notAfter.toISOString() },
      };
    },
    logger,
  });
  const heartbeat = setInterval(() => {
    for (const cluster of sessions.clusters()) {
      void writeClusterStatus(client, sessions, cluster, logger);
    }
  }, 30_000);

  return {
    url: `https://${host}:${port}`,
    port,
    caPem: shared.bundlePem,
    sessions,
    async stop() {
      clearInterval(heartbeat);
      await renewal.stop();
      await directory?.stop();
      for (const peer of [...peers.values(), ...retired]) peer.close();
      stopping.abort();
      await watching;
      for (const cluster of sessions.clusters()) {
        await Promise.all(sessions.agents(cluster).map((agent) => agent.session.close()));
      }
      await server.close();
      await peerServer?.close();
      client.transport.close();
    },
  };
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

async function watchAgentTokens(
  client: KubeClient,
  namespace: string,
  sessions: AgentSessions,
  logger: Logger,
  signal: AbortSignal,
  onFollowing: (following: boolean) => void,
): Promise<void> {
  const path = `/api/v1/namespaces/${namespace}/secrets`;
  while (!signal.aborted) {
    try {
      const list = await client.list(path, { labelSelector: AGENT_TOKEN_LABEL });
      onFollowing(true);
      for await (
        const event of client.watch<{ metadata?: { name?: string } }>(path, {
          labelSelector: AGENT_TOKEN_LABEL,
          ...(list.metadata.resourceVersion
            ? { resourceVersion: list.metadata.resourceVersion }
            : {}),
          timeoutSeconds: 300,
          signal,
        })
      ) {
        const cluster = event.object.metadata?.name?.replace(/^mca-agent-/, "");
        if (!cluster || event.type === "BOOKMARK") continue;
        const current = event.type === "DELETED"
          ? undefined
          : await registeredTokenHash(client, namespace, cluster);
        const closed = await sessions.closeStale(cluster, current);
        if (closed > 0) {
          logger.warn("agent token changed: closed its sessions", { cluster, sessions: closed });
        }
      }
    } catch (error) {
      if (signal.aborted) return;
      onFollowing(false);
      logger.warn("watching agent tokens failed; retrying", { error: (error as Error).message });
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }
}
