/**
 * The hub's end of the trust channel (tunnel version 2): each agent's trust stream gets the CA
 * set agents must trust, again whenever it changes (a rollover phase), and the agent answers
 * with the pins it holds; the hub keeps them on the agent's session for the Cluster status.
 */
import type { Logger } from "../log/mod.ts";
import { holdsEveryPin, type TrustedCa, trustPins } from "../pki/mod.ts";
import {
  encodeTrustMessage,
  readTrustMessages,
  type TrustMessage,
  type YamuxStream,
} from "../tunnel/mod.ts";
import type { AgentSession } from "./agent_sessions.ts";

/** The CA set agents trust, and the agents' trust streams it is pushed to. */
export class HubTrust {
  #set: readonly TrustedCa[];
  #streams = new Map<AgentSession, YamuxStream>();

  /** `replica` names this hub in the Clusters' status.hubCaTrust (one entry per replica). */
  constructor(set: readonly TrustedCa[], readonly logger: Logger, readonly replica = "hub") {
    this.#set = set;
  }

  /** The pins agents must hold. */
  get pins(): string[] {
    return trustPins(this.#set);
  }

  /** Whether an agent holds (and persisted) every pin of the set. */
  holdsAll(agent: AgentSession): boolean {
    return agent.trust?.persisted === true && holdsEveryPin(agent.trust.pins, this.pins);
  }

  /** A new set (after a rollover phase): every agent's stream gets it. */
  update(set: readonly TrustedCa[]): void {
    this.#set = set;
    for (const [agent, stream] of this.#streams) void this.#send(agent, stream);
  }

  /**
   * Serves one agent's trust stream until it ends: sends the set, records each answer, calls
   * `onHeld` after each. One stream per session: a second one is reset.
   */
  async serve(agent: AgentSession, stream: YamuxStream, onHeld: () => void): Promise<void> {
    if (this.#streams.has(agent)) return stream.reset();
    this.#streams.set(agent, stream);
    try {
      await this.#send(agent, stream);
      for await (const message of readTrustMessages(stream)) {
        if (message.type !== "held-pins") throw new Error("trust channel: unexpected message");
        agent.trust = { pins: message.pins, persisted: message.persisted };
        this.logger.info("agent holds hub CA pins", {
          cluster: agent.cluster,
          agent: agent.agentId,
          pins: message.pins.length,
          persisted: message.persisted,
          ready: this.holdsAll(agent),
        });
        onHeld();
      }
    } catch (error) {
      if (agent.session.isClosed) return; // the agent left: its stream ended with it
      this.logger.warn("trust channel failed", {
        cluster: agent.cluster,
        agent: agent.agentId,
        error: (error as Error).message,
      });
      stream.reset();
    } finally {
      this.#streams.delete(agent);
    }
  }

  async #send(agent: AgentSession, stream: YamuxStream): Promise<void> {
    const message: TrustMessage = {
      type: "hub-cas",
      cas: this.#set.map((ca) => ca.certificatePem),
    };
    try {
      await stream.writeChunks([encodeTrustMessage(message)]);
    } catch (error) {
      this.logger.warn("cannot send the hub CAs to an agent", {
        cluster: agent.cluster,
        agent: agent.agentId,
        error: (error as Error).message,
      });
    }
  }
}
