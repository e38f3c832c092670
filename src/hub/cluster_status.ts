/**
 * Keeping each Cluster object's status current: connected agents, heartbeat, member version,
 * Connected, and which agents hold the hub CA pins (hubCaTrust).
 */
import type { KubeClient } from "../kube/mod.ts";
import type { Logger } from "../log/mod.ts";
import type { AgentSessions } from "./agent_sessions.ts";
import type { HubTrust } from "./hub_trust.ts";

/** Writes the status of one cluster from the live sessions. */
export async function writeClusterStatus(
  client: KubeClient,
  sessions: AgentSessions,
  cluster: string,
  logger: Logger,
  { trust, now = () => new Date() }: { trust?: HubTrust; now?: () => Date } = {},
): Promise<void> {
  const agents = sessions.agents(cluster);
  const connected = agents.length > 0;
  const path = `/apis/mca.k8s.io/v1alpha1/clusters/${cluster}/status`;
  try {
    const current = await client.get<
      { status?: { conditions?: { type: string; status: string; lastTransitionTime?: string }[] } }
    >(
      `/apis/mca.k8s.io/v1alpha1/clusters/${cluster}`,
    );
    const previous = current.status?.conditions?.find((c) => c.type === "Connected");
    const status = connected ? "True" : "False";
    const transition = previous?.status === status
      ? previous.lastTransitionTime
      : now().toISOString();
    await client.patch(path, {
      status: {
        connectedAgents: agents.length,
        lastHeartbeat: now().toISOString(),
        ...(agents[0]?.memberVersion ? { memberVersion: agents[0].memberVersion } : {}),
        // What a CA rollover waits for: every connected agent holds every pin agents must trust.
        // One entry per replica (a merge patch keeps the others'), each with its own agents.
        ...(trust
          ? {
            hubCaTrust: {
              [trust.replica]: {
                pins: trust.pins,
                agentsHolding: agents.filter((agent) => trust.holdsAll(agent)).length,
                agents: agents.length,
                lastUpdate: now().toISOString(),
              },
            },
          }
          : {}),
        conditions: [{
          type: "Connected",
          status,
          reason: connected ? "AgentConnected" : "NoAgent",
          message: connected
            ? `${agents.length} agent(s) connected to this hub`
            : "No agent is connected",
          lastTransitionTime: transition,
        }],
      },
    }, "merge");
  } catch (error) {
    logger.warn("cannot update the Cluster status", { cluster, error: (error as Error).message });
  }
}

/** Writes the status of every cluster with agents here (a heartbeat the Cluster objects show). */
export function writeClusterStatuses(
  client: KubeClient,
  sessions: AgentSessions,
  { trust, logger }: { trust: HubTrust; logger: Logger },
): void {
  for (const cluster of sessions.clusters()) {
    void writeClusterStatus(client, sessions, cluster, logger, { trust });
  }
}
