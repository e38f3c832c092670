/**
 * A hub–agent tunnel without sockets: two yamux sessions over a pair of in-memory streams, the
 * agent's side serving each stream the hub opens with the agent's real handler.
 */
import { createAgentHandler } from "../../src/agent/mod.ts";
import type { Upstream } from "../../src/forward/mod.ts";
import type { AgentSession } from "../../src/hub/mod.ts";
import { silentLogger } from "../../src/log/mod.ts";
import { YamuxSession } from "../../src/tunnel/mod.ts";
import type { Duplex } from "../../src/tunnel/yamux/mod.ts";

/** Two connected in-memory byte duplexes. */
export function streamPair(): [Duplex, Duplex] {
  const ab = new TransformStream<Uint8Array, Uint8Array>();
  const ba = new TransformStream<Uint8Array, Uint8Array>();
  return [
    { readable: ba.readable, writable: ab.writable },
    { readable: ab.readable, writable: ba.writable },
  ];
}

/** Both ends of a tunnel to one member. */
export interface InMemoryTunnel {
  /** The hub's end, as the hub's sessions hold it. */
  agent: AgentSession;
  close(): Promise<void>;
}

/** A tunnel whose agent serves `member` as the cluster `cluster`. */
export function inMemoryTunnel(cluster: string, member: Upstream): InMemoryTunnel {
  const [hubEnd, agentEnd] = streamPair();
  const serve = createAgentHandler(member, cluster, silentLogger);
  const agentSession = new YamuxSession(agentEnd, {
    client: true,
    keepAliveIntervalMs: 0,
    onStream: (stream) => void serve(stream),
  });
  const hubSession = new YamuxSession(hubEnd, { client: false, keepAliveIntervalMs: 0 });
  return {
    agent: {
      cluster,
      agentId: "agent-1",
      session: hubSession,
      tokenHash: "",
      memberVersion: "v1.35.0",
      connectedAt: new Date(),
      streams: 0,
    },
    async close() {
      await hubSession.close();
      await agentSession.close();
    },
  };
}
