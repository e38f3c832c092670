/**
 * Stopping a hub replica in a rollout without failing requests (with `--shutdown-delay`):
 * 1. for the delay it keeps answering, unready and asking clients to close their connections,
 *    while the Service's endpoints drop it (callers then reach the other replicas, which
 *    forward to the agents here);
 * 2. with replicas, it tells its agents GoAway while their sessions stay: each agent opens a
 *    session to another replica and moves there, and this replica waits until another one
 *    publishes each of its clusters;
 * 3. it withdraws its Lease and keeps serving what other replicas forward to it until their
 *    view of the Leases has been read again;
 * 4. it lets open requests finish, closing each agent session once its requests are done.
 * Without the delay (development, tests) it closes at once.
 */
import { setTimeout as delay } from "node:timers/promises";
import type { Logger } from "../log/mod.ts";
import type { KubeClient } from "../kube/mod.ts";
import type { Http1Server } from "../http1/mod.ts";
import type { AgentSessions } from "./agent_sessions.ts";
import { PEER_VIEW_MS, type ReplicaDirectory } from "./hub_replicas.ts";

/** How long agents have to reach another replica. */
const AGENT_MOVE_GRACE_MS = 15_000;
/** How long open requests have to finish once the replica left (watches are cut after it). */
const REQUEST_GRACE_MS = 10_000;
const POLL_MS = 200;

/** The hub's listeners: the public one, and the one for other replicas (mutual TLS). */
export interface HubServers {
  server: Http1Server;
  peerServer: Http1Server | undefined;
}

/** What stopping touches. */
export interface StoppingHub {
  client: KubeClient;
  sessions: AgentSessions;
  servers: HubServers;
  directory: ReplicaDirectory | undefined;
  delayMs: number;
  logger: Logger;
  /** Ends what runs beside the listeners (the directory among them: the Lease is withdrawn). */
  stopBackground: () => Promise<void>;
  /** Releases what requests in flight may still use (connections to other replicas). */
  release: () => Promise<void>;
}

/** Stops the replica: gracefully with a delay, at once without. */
export async function stopHub(hub: StoppingHub): Promise<void> {
  const { servers, directory, delayMs, logger } = hub;
  if (delayMs === 0) {
    await hub.stopBackground();
    return await closeHub(hub);
  }
  servers.server.askToClose();
  logger.info("stopping: still answering while endpoints drop this replica", {
    delay: `${delayMs / 1000}s`,
  });
  await delay(delayMs);
  if (directory) await moveAgents(hub.sessions, directory, logger);
  await hub.stopBackground();
  // Others act on their view of this replica's Lease for a while: serve what they forward.
  if (directory) await delay(PEER_VIEW_MS + 1_000);
  // The agents' WebSockets are connections of the public listener too: each session closes
  // once the requests on it are done, so that the listener's shutdown does not wait for them.
  const [cut, peerCut] = await Promise.all([
    servers.server.shutdown(REQUEST_GRACE_MS),
    servers.peerServer?.shutdown(REQUEST_GRACE_MS),
    closeSessionsWhenIdle(hub.sessions, REQUEST_GRACE_MS),
  ]);
  logger.info("hub stopped", { cut: cut + (peerCut ?? 0) });
  await closeHub(hub);
}

/** Closes each agent session once no request stream is open on it (at the latest after graceMs). */
async function closeSessionsWhenIdle(sessions: AgentSessions, graceMs: number): Promise<void> {
  const deadline = Date.now() + graceMs;
  const agents = sessions.clusters().flatMap((cluster) => sessions.sessionsOf(cluster));
  await Promise.all(agents.map(async ({ session }) => {
    while (session.ownStreamCount > 0 && !session.hasEnded && Date.now() < deadline) {
      await delay(POLL_MS);
    }
    await session.close();
  }));
}

/**
 * Tells every agent here GoAway (each opens a session to another replica) and waits until
 * another replica holds each of their clusters, up to a grace period. Their sessions here stay
 * usable for requests forwarded to this replica meanwhile.
 */
async function moveAgents(
  sessions: AgentSessions,
  directory: ReplicaDirectory,
  logger: Logger,
): Promise<void> {
  const agents = sessions.clusters().flatMap((cluster) => sessions.sessionsOf(cluster));
  if (agents.length === 0) return;
  // The only replica: there is nowhere to move to (agents reconnect when it is back).
  if ((await directory.others().catch(() => undefined))?.replicas === 0) return;
  logger.info("asking the agents here to move to another replica", { agents: agents.length });
  await Promise.all(agents.map((agent) => agent.session.goAway().catch(() => {})));
  const waiting = new Set(agents.map((agent) => agent.cluster));
  const deadline = Date.now() + AGENT_MOVE_GRACE_MS;
  while (waiting.size > 0 && Date.now() < deadline) {
    const others = await directory.others().catch(() => undefined);
    for (const cluster of others?.clusters ?? []) waiting.delete(cluster);
    if (waiting.size > 0) await delay(POLL_MS);
  }
  logger.info("agents moved to other replicas", {
    clusters: new Set(agents.map((agent) => agent.cluster)).size - waiting.size,
    notMoved: [...waiting].join(","),
  });
}

/** Closes the agents' sessions, the listeners, what requests used, and the host connection. */
async function closeHub({ client, sessions, servers, release }: StoppingHub): Promise<void> {
  for (const cluster of sessions.clusters()) {
    await Promise.all(sessions.sessionsOf(cluster).map((agent) => agent.session.close()));
  }
  await servers.server.close();
  await servers.peerServer?.close();
  await release();
  client.transport.close();
}
