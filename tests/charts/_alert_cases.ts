/**
 * `promtool test rules` cases for the chart's alerts: series as mca's /metrics renders them, with
 * the target labels a ServiceMonitor's scrape adds (namespace, pod).
 */

/** Series as a ServiceMonitor's scrape labels them: the target's namespace and pod. */
const HUB = (pod: string) => `namespace="mca-system",pod="${pod}"`;
const AGENT = 'namespace="mca-agent",pod="mca-agent-7d9f-x2x"';

/** A cluster that loses its only agent, one never connected, and one that keeps its agent. */
export function withoutAgentsCase() {
  return {
    interval: "1m",
    input_series: [
      // east: its only agent (on replica a) leaves at 3m; west: registered, never connected;
      // north: connected on replica b throughout.
      { series: `mca_hub_agents{${HUB("mca-hub-a")},cluster="east"}`, values: "1 1 1 0x20" },
      { series: `mca_hub_agents{${HUB("mca-hub-b")},cluster="east"}`, values: "0x23" },
      { series: `mca_hub_agents{${HUB("mca-hub-a")},cluster="west"}`, values: "0x23" },
      { series: `mca_hub_agents{${HUB("mca-hub-b")},cluster="west"}`, values: "0x23" },
      { series: `mca_hub_agents{${HUB("mca-hub-a")},cluster="north"}`, values: "0x23" },
      { series: `mca_hub_agents{${HUB("mca-hub-b")},cluster="north"}`, values: "1x23" },
      // Another installation's hub in another namespace is not this release's business.
      { series: `mca_hub_agents{namespace="other",pod="h",cluster="south"}`, values: "0x23" },
    ],
    alert_rule_test: [
      { eval_time: "4m", alertname: "McaClusterWithoutAgents", exp_alerts: [] },
      {
        eval_time: "6m",
        alertname: "McaClusterWithoutAgents",
        exp_alerts: [withoutAgents("west")],
      },
      {
        eval_time: "9m",
        alertname: "McaClusterWithoutAgents",
        exp_alerts: [withoutAgents("east"), withoutAgents("west")],
      },
    ],
  };
}

/** Agents that reconnect every minute, seen by the hub and by the agent pod, and calm ones. */
export function reconnectStormCase() {
  return {
    interval: "1m",
    input_series: [
      // east's agents reconnect every minute; west's connected once; one agent pod keeps
      // losing its session to unanswered keepalives, another reconnected once.
      {
        series: `mca_hub_agent_connections_total{${HUB("mca-hub-a")},cluster="east"}`,
        values: "0+1x30",
      },
      {
        series: `mca_hub_agent_connections_total{${HUB("mca-hub-a")},cluster="west"}`,
        values: "1x30",
      },
      {
        series: `mca_agent_reconnects_total{${AGENT},reason="keepalive_timeout"}`,
        values: "0+1x30",
      },
      { series: `mca_agent_reconnects_total{${AGENT},reason="dial_failed"}`, values: "0 1x29" },
    ],
    alert_rule_test: [
      {
        eval_time: "20m",
        alertname: "McaAgentReconnectStorm",
        exp_alerts: [
          {
            exp_labels: { severity: "warning", cluster: "east" },
            exp_annotations: {
              summary: "Agents of cluster east reconnected 15 times in 15 minutes",
              description: reconnectHubDescription,
            },
          },
        ],
      },
      {
        eval_time: "20m",
        alertname: "McaAgentPodReconnectStorm",
        exp_alerts: [
          {
            exp_labels: {
              severity: "warning",
              namespace: "mca-agent",
              pod: "mca-agent-7d9f-x2x",
              reason: "keepalive_timeout",
            },
            exp_annotations: {
              summary:
                "Agent mca-agent/mca-agent-7d9f-x2x reconnected 15 times in 15 minutes (keepalive_timeout)",
              description: reconnectAgentDescription,
            },
          },
        ],
      },
    ],
  };
}

/** A member answering 10% 503s and one answering 404s (no 5xx). */
export function memberErrorsCase() {
  return {
    interval: "1m",
    input_series: [
      // east: 10% of requests fail with 503 from 0m; west: only 200s and a few 404s.
      {
        series: `mca_hub_requests_total{${HUB("mca-hub-a")},cluster="east",code="200"}`,
        values: "0+90x40",
      },
      {
        series: `mca_hub_requests_total{${HUB("mca-hub-a")},cluster="east",code="503"}`,
        values: "0+10x40",
      },
      {
        series: `mca_hub_requests_total{${HUB("mca-hub-a")},cluster="west",code="200"}`,
        values: "0+90x40",
      },
      {
        series: `mca_hub_requests_total{${HUB("mca-hub-a")},cluster="west",code="404"}`,
        values: "0+10x40",
      },
    ],
    alert_rule_test: [
      { eval_time: "10m", alertname: "McaMemberErrors", exp_alerts: [] },
      {
        eval_time: "20m",
        alertname: "McaMemberErrors",
        exp_alerts: [{
          exp_labels: { severity: "warning", cluster: "east" },
          exp_annotations: {
            summary: "10% of the requests to member east fail with 5xx",
            description: memberErrorsDescription,
          },
        }],
      },
    ],
  };
}

function withoutAgents(cluster: string) {
  return {
    exp_labels: { severity: "critical", cluster },
    exp_annotations: {
      summary: `No agent of cluster ${cluster} is connected to the hub`,
      description: `Requests to member ${cluster} through the hub fail with 503. ` +
        "Look at the agent pods in the member (`kubectl -n mca-agent logs deploy/mca-agent`) " +
        "and at `mca check`.",
    },
  };
}

const reconnectHubDescription = "The hub accepted that many new agent sessions for the cluster. " +
  "The agents' metric mca_agent_reconnects_total says why (its reason label); see \"Egress " +
  'proxies and idle timeouts" in docs/operations.md.';
const reconnectAgentDescription =
  "reason dial_failed: the hub is unreachable; refused: the hub refuses the agent's token or " +
  "tunnel version; keepalive_timeout or closed: something between the agent and the hub drops " +
  "the connection.";
const memberErrorsDescription =
  "The hub answered 5xx (503: no agent or a broken tunnel; 502/504: the member's API server) to " +
  "that share of the requests to the member over 5 minutes.";
