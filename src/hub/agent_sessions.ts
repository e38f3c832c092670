/** The agents connected to this hub, by cluster; requests are spread over them and fail over. */
import type { YamuxSession, YamuxStream } from "../tunnel/mod.ts";

/** One connected agent. */
export interface AgentSession {
  cluster: string;
  agentId: string;
  session: YamuxSession;
  tokenHash: string;
  memberVersion: string;
  connectedAt: Date;
  /** Streams opened to this agent (requests it carried). */
  streams: number;
  /** The hub CA pins the agent last said it holds (tunnel version 2 and later). */
  trust?: { pins: string[]; persisted: boolean };
}

/** Registry of connected agents. */
export class AgentSessions {
  #byCluster = new Map<string, AgentSession[]>();
  #next = new Map<string, number>();

  add(agent: AgentSession): void {
    this.#byCluster.set(agent.cluster, [...(this.#byCluster.get(agent.cluster) ?? []), agent]);
  }

  remove(agent: AgentSession): void {
    const rest = (this.#byCluster.get(agent.cluster) ?? []).filter((a) => a !== agent);
    if (rest.length > 0) this.#byCluster.set(agent.cluster, rest);
    else this.#byCluster.delete(agent.cluster);
  }

  /** Agents of a cluster (connected ones only). */
  agents(cluster: string): AgentSession[] {
    return (this.#byCluster.get(cluster) ?? []).filter((agent) => !agent.session.isClosed);
  }

  /** Every session of a cluster that has not ended, agents that are going away included. */
  sessionsOf(cluster: string): AgentSession[] {
    return (this.#byCluster.get(cluster) ?? []).filter((agent) => !agent.session.hasEnded);
  }

  clusters(): string[] {
    return [...this.#byCluster.keys()];
  }

  /** Opens a stream on the next agent of the cluster (round robin), trying the others if one fails. */
  async openStream(
    cluster: string,
  ): Promise<{ stream: YamuxStream; agent: AgentSession } | undefined> {
    const agents = this.agents(cluster);
    const start = this.#next.get(cluster) ?? 0;
    this.#next.set(cluster, start + 1);
    for (let i = 0; i < agents.length; i++) {
      const agent = agents[(start + i) % agents.length]!;
      try {
        const stream = await agent.session.open();
        agent.streams++;
        return { stream, agent };
      } catch {
        // That agent is going away: the next one serves.
      }
    }
    return undefined;
  }

  /** Closes every session of a cluster whose token is no longer accepted. */
  async closeStale(cluster: string, accepted: readonly string[]): Promise<number> {
    const stale = (this.#byCluster.get(cluster) ?? []).filter((agent) =>
      !accepted.includes(agent.tokenHash)
    );
    await Promise.all(stale.map((agent) => agent.session.close()));
    return stale.length;
  }
}
