/**
 * Replaced or deleted agent tokens close the sessions that used them; a rotated token's sessions
 * stay until its overlap ends.
 */
import type { KubeClient } from "../kube/mod.ts";
import type { Logger } from "../log/mod.ts";
import { acceptedHashes, AGENT_TOKEN_LABEL, registeredTokenHashes } from "../members/mod.ts";
import type { AgentSessions } from "./agent_sessions.ts";

/** Keeps `registered` equal to the clusters whose token Secret exists. */
function trackRegistered(
  registered: Set<string>,
  event: { type: string; object: { metadata?: { name?: string } } },
): void {
  const cluster = clusterOfSecret(event.object.metadata?.name);
  if (!cluster || event.type === "BOOKMARK") return;
  if (event.type === "DELETED") registered.delete(cluster);
  else registered.add(cluster);
}

/** The cluster of an agent token Secret ("mca-agent-<cluster>"). */
function clusterOfSecret(name: string | undefined): string | undefined {
  return name?.replace(/^mca-agent-/, "") || undefined;
}

/** Follows the agent token Secrets until aborted; `onFollowing` says whether it currently can. */
export async function watchAgentTokens(
  client: KubeClient,
  namespace: string,
  options: {
    sessions: AgentSessions;
    logger: Logger;
    signal: AbortSignal;
    onFollowing: (following: boolean) => void;
    /** Kept equal to the clusters that have an agent token Secret (registered clusters). */
    registered?: Set<string>;
  },
): Promise<void> {
  const { sessions, logger, signal, onFollowing } = options;
  const registered = options.registered ?? new Set<string>();
  const path = `/api/v1/namespaces/${namespace}/secrets`;
  while (!signal.aborted) {
    try {
      const list = await client.list(path, { labelSelector: AGENT_TOKEN_LABEL });
      registered.clear();
      for (const item of list.items) {
        const cluster = clusterOfSecret(item.metadata?.name);
        if (cluster) registered.add(cluster);
      }
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
        trackRegistered(registered, event);
        const cluster = event.object.metadata?.name?.replace(/^mca-agent-/, "");
        if (!cluster || event.type === "BOOKMARK") continue;
        const recheck = () => closeStale(client, namespace, { cluster, sessions, logger });
        const hashes = event.type === "DELETED"
          ? undefined
          : await registeredTokenHashes(client, namespace, cluster);
        await closeStaleSessions(cluster, acceptedHashes(hashes, new Date()), { sessions, logger });
        // When the overlap of a rotation ends, the sessions of the previous token end too.
        const overlap = hashes?.previous ? hashes.previous.expiresAt.getTime() - Date.now() : -1;
        if (overlap >= 0) {
          const timer = setTimeout(() => void recheck().catch(() => {}), overlap + 1);
          signal.addEventListener("abort", () => clearTimeout(timer), { once: true });
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

async function closeStale(
  client: KubeClient,
  namespace: string,
  { cluster, sessions, logger }: { cluster: string; sessions: AgentSessions; logger: Logger },
): Promise<void> {
  const hashes = await registeredTokenHashes(client, namespace, cluster);
  await closeStaleSessions(cluster, acceptedHashes(hashes, new Date()), { sessions, logger });
}

async function closeStaleSessions(
  cluster: string,
  accepted: string[],
  { sessions, logger }: { sessions: AgentSessions; logger: Logger },
): Promise<void> {
  const closed = await sessions.closeStale(cluster, accepted);
  if (closed > 0) {
    logger.warn("agent token changed: closed its sessions", { cluster, sessions: closed });
  }
}
