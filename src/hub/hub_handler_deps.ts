/** What the hub's handler needs from the host cluster: access checks, token hashes, status, replicas. */
import type { KubeClient } from "../kube/mod.ts";
import {
  createMetricsRegistry,
  type MetricsRegistry,
  registerProcessMetrics,
} from "../metrics/mod.ts";
import type { AgentSessions } from "./agent_sessions.ts";
import { hostTokenStore } from "./agent_token_store.ts";
import { CallerInFlight } from "./caller_in_flight.ts";
import { ClusterIdentities } from "./cluster_identity.ts";
import { writeClusterStatus } from "./cluster_status.ts";
import type { FrontProxyAuthenticator } from "./front_proxy.ts";
import { gatedTokenStore, HostReadGate } from "./host_read_gate.ts";
import type { HubHandlerDeps } from "./hub_handler.ts";
import type { ResolvedHubOptions } from "./hub_options.ts";
import { isPeerRequest, type PeerUpstreams } from "./hub_peers.ts";
import type { ReplicaDirectory } from "./hub_replicas.ts";
import type { HubTrust } from "./hub_trust.ts";
import { UserAccess } from "./user_access.ts";

/** The handler's deps on the host cluster: access checks, token hashes, status, replicas. */
export function hubHandlerDeps(client: KubeClient, parts: {
  options: ResolvedHubOptions;
  sessions: AgentSessions;
  directory: ReplicaDirectory | undefined;
  peers: PeerUpstreams;
  /** Whether the agent tokens are followed, and the registered clusters they name. */
  followed: { tokens: boolean; clusters: Set<string> };
  /** Set once the replica stops: unready, and agents are sent elsewhere. */
  lifecycle: { stopping: boolean };
  frontProxy: FrontProxyAuthenticator | undefined;
  /** The CA set told to agents (it carries the logger). */
  trust: HubTrust;
}): HubHandlerDeps {
  const { options, sessions, directory, peers, followed, lifecycle, frontProxy, trust } = parts;
  const { logger } = trust;
  const identities = new ClusterIdentities(client);
  const metrics = processRegistry();
  const throttled = metrics.counter(
    "mca_hub_agent_auth_throttled_total",
    "Agent requests answered 429 because the hub was checking as many tokens as it allows",
  );
  return {
    sessions,
    access: new UserAccess(client),
    identityOf: (cluster) => identities.of(cluster),
    tokens: gatedTokenStore(
      hostTokenStore(client, options.namespace, options.agentTokenOverlapMs),
      new HostReadGate(options.agentAuthConcurrency, options.agentAuthConcurrency),
      () => throttled.inc({}),
    ),
    onAgentChange: (cluster) => {
      directory?.update();
      void writeClusterStatus(client, sessions, cluster, logger, { trust });
    },
    trust,
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
      lifecycle.stopping
        ? "stopping"
        : !followed.tokens
        ? "cannot follow the agent tokens on the host (see the log)"
        : directory && !directory.isPublished()
        ? "cannot publish this replica's Lease on the host (see the log)"
        : undefined,
    metrics,
    ...(options.maxRequestsPerCaller > 0
      ? { callers: new CallerInFlight(options.maxRequestsPerCaller) }
      : {}),
    registeredClusters: () => followed.clusters,
    isStopping: () => lifecycle.stopping,
    logger,
  };
}

/** The hub's metrics registry, with build info and process metrics. */
function processRegistry(): MetricsRegistry {
  const registry = createMetricsRegistry();
  registerProcessMetrics(registry);
  return registry;
}
