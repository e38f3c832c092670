/**
 * The agent's metrics, on its health listener: whether its session with the hub is up, why it
 * reconnected, the streams and bytes it carries, and how long its member took to answer.
 */
import type { Counter, Gauge, Histogram, MetricsRegistry } from "../metrics/mod.ts";

/** Why the agent dialed the hub again. */
export type ReconnectReason = "dial_failed" | "refused" | "keepalive_timeout" | "closed";

/** The agent's metrics, recorded by the connection loop and the stream handler. */
export interface AgentMetrics {
  sessionUp: Gauge;
  reconnects: Counter;
  bytes: Counter;
  /** Labels: `code`. */
  requestDuration: Histogram;
}

/**
 * Registers the agent's metrics. `openStreams` is read at each scrape (the session's own count)
 * rather than kept in step by the handler.
 */
export function createAgentMetrics(
  registry: MetricsRegistry,
  openStreams: () => number,
): AgentMetrics {
  const open = registry.gauge("mca_agent_open_streams", "Tunnel streams open on the hub session");
  registry.beforeRender(() => open.set(openStreams()));
  const sessionUp = registry.gauge(
    "mca_agent_session_up",
    "1 while the agent has a session with the hub, else 0",
  );
  sessionUp.set(0);
  return {
    sessionUp,
    reconnects: registry.counter(
      "mca_agent_reconnects_total",
      "Times the agent dialed the hub again, by why the last attempt or session ended",
    ),
    bytes: registry.counter(
      "mca_agent_bytes_total",
      "Tunnel bytes (WebSocket message payloads) exchanged with the hub, by direction",
    ),
    requestDuration: registry.histogram(
      "mca_agent_request_duration_seconds",
      "Time from the hub's request to the member's response headers, by HTTP code",
    ),
  };
}

/**
 * The reason for a reconnect, from the error that ended the last dial (`dialing`) or session:
 * the hub's refusal (an HTTP answer instead of the upgrade, or no common tunnel version), an
 * unanswered keepalive, any other dial failure, or a session that closed.
 */
export function reconnectReason(error: Error | undefined, dialing: boolean): ReconnectReason {
  const message = error?.message ?? "";
  if (dialing) {
    return /the hub refused the connection|speaks no tunnel version/.test(message)
      ? "refused"
      : "dial_failed";
  }
  return /keepalive/.test(message) ? "keepalive_timeout" : "closed";
}
