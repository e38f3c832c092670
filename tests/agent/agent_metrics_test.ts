import { createAgentMetrics, reconnectReason } from "../../src/agent/mod.ts";
import { createMetricsRegistry } from "../../src/metrics/mod.ts";
import { assertEquals, assertStringIncludes } from "../_utils/assert.ts";

Deno.test("reconnectReason() names why the last dial or session ended", () => {
  const cases: [string | undefined, boolean, string][] = [
    ["the hub refused the connection: HTTP 401", true, "refused"],
    ["the hub speaks no tunnel version this agent speaks: upgrade the hub", true, "refused"],
    ["connect ECONNREFUSED 127.0.0.1:9443", true, "dial_failed"],
    ["Opening handshake has timed out", true, "dial_failed"],
    ["yamux: keepalive ping went unanswered", false, "keepalive_timeout"],
    ["yamux: the connection closed", false, "closed"],
    [undefined, false, "closed"],
  ];
  for (const [message, dialing, reason] of cases) {
    const error = message === undefined ? undefined : new Error(message);
    assertEquals(reconnectReason(error, dialing), reason, `${message}`);
  }
});

Deno.test("createAgentMetrics() renders the session state, reconnects, streams and bytes", () => {
  const registry = createMetricsRegistry();
  let streams = 3;
  const metrics = createAgentMetrics(registry, () => streams);
  assertStringIncludes(registry.render(), "mca_agent_session_up 0\n");
  metrics.sessionUp.set(1);
  metrics.reconnects.inc({ reason: "dial_failed" });
  metrics.bytes.inc({ direction: "sent" }, 120);
  metrics.bytes.inc({ direction: "received" }, 80);
  metrics.requestDuration.observe(0.002, { code: "200" });
  const text = registry.render();
  for (
    const line of [
      "# TYPE mca_agent_session_up gauge",
      "mca_agent_session_up 1",
      "# TYPE mca_agent_reconnects_total counter",
      'mca_agent_reconnects_total{reason="dial_failed"} 1',
      "mca_agent_open_streams 3",
      'mca_agent_bytes_total{direction="sent"} 120',
      'mca_agent_bytes_total{direction="received"} 80',
      "# TYPE mca_agent_request_duration_seconds histogram",
      'mca_agent_request_duration_seconds_count{code="200"} 1',
    ]
  ) assertStringIncludes(text, line + "\n");
  streams = 0;
  assertStringIncludes(registry.render(), "mca_agent_open_streams 0\n");
});
