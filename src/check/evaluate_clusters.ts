/**
 * Each Cluster object: connected, and its agents' tunnel version accepted by the hub (pure).
 * What the hub publishes is in src/hub/cluster_status.ts: connectedAgents, lastHeartbeat (every
 * 30 s while it holds the cluster), memberVersion and the Connected condition.
 */
import { MIN_TUNNEL_VERSION, TUNNEL_VERSION } from "../tunnel/connect_contract.ts";
import type { ClusterFacts, Fetched } from "./check_facts.ts";
import { type CheckResult, roughDuration } from "./check_result.ts";

const SECTION = "clusters";
/** A status older than this was written by a hub that no longer holds the cluster. */
export const STALE_HEARTBEAT_MS = 120_000;

/** Two lines per Cluster object; one skip line when there is none. */
export function evaluateClusters(clusters: Fetched<ClusterFacts[]>, now: Date): CheckResult[] {
  if (!clusters.ok) {
    return [{
      section: SECTION,
      title: "the Cluster objects can be listed",
      status: "skip",
      detail: clusters.reason === "not-found"
        ? "the Cluster kind (clusters.mca.k8s.io) is not installed: no hub here"
        : clusters.message,
    }];
  }
  if (clusters.value.length === 0) {
    return [{
      section: SECTION,
      title: "the Cluster objects are connected",
      status: "skip",
      detail: "no Cluster objects: add a member with mca agent install",
    }];
  }
  return clusters.value.flatMap((cluster) => {
    const connected = connection(cluster, now);
    return [connected, versions(cluster, connected.status === "ok")];
  });
}

function connection(cluster: ClusterFacts, now: Date): CheckResult {
  const title = `cluster "${cluster.name}" is connected`;
  const hint = `On the member, the agent's log says why it is not connected (wrong token, CA ` +
    `pin, tunnel version): kubectl -n mca-agent logs deploy/mca-agent; or re-run mca agent ` +
    `install --cluster ${cluster.name}`;
  const condition = cluster.connected;
  if (!condition) {
    return {
      section: SECTION,
      title,
      status: "fail",
      detail: "no agent has ever connected (the Cluster has no status)",
      hint,
    };
  }
  if (condition.status !== "True") {
    const since = condition.since
      ? ` for ${roughDuration(now.getTime() - condition.since.getTime())}`
      : "";
    return {
      section: SECTION,
      title,
      status: "fail",
      detail: `${condition.reason ?? "not connected"}${since}: ${
        condition.message ?? "no agent is connected"
      }`,
      hint,
    };
  }
  const age = cluster.lastHeartbeat ? now.getTime() - cluster.lastHeartbeat.getTime() : Infinity;
  if (age > STALE_HEARTBEAT_MS) {
    return {
      section: SECTION,
      title,
      status: "fail",
      detail: cluster.lastHeartbeat
        ? `the status says connected, but the hub last wrote it ${roughDuration(age)} ago`
        : "the status says connected, but has no heartbeat",
      hint: "The hub that held this cluster is gone, or cannot write the Cluster status: " +
        "check the hub's pods and log (it needs patch on clusters/status)",
    };
  }
  return {
    section: SECTION,
    title,
    status: "ok",
    detail: `${cluster.connectedAgents ?? 0} agent(s)${
      cluster.memberVersion ? `, member Kubernetes ${cluster.memberVersion}` : ""
    }`,
  };
}

// The hub publishes no agent version; what is observable is that it accepted the agents: it
// refuses, with 426, agents that share no tunnel version with it (src/tunnel/connect_contract.ts).
function versions(cluster: ClusterFacts, connected: boolean): CheckResult {
  const title = `cluster "${cluster.name}": agent and hub speak a common tunnel version`;
  if (!connected) {
    return {
      section: SECTION,
      title,
      status: "skip",
      detail: "no agent connected; an agent the hub refuses as too old logs 426 and " +
        `"upgrade the agent" (this release speaks tunnel versions ${range()})`,
    };
  }
  return {
    section: SECTION,
    title,
    status: "ok",
    detail: "the hub accepted its agents (it refuses agents outside its tunnel versions)",
  };
}

function range(): string {
  return MIN_TUNNEL_VERSION === TUNNEL_VERSION
    ? String(TUNNEL_VERSION)
    : `${MIN_TUNNEL_VERSION} to ${TUNNEL_VERSION}`;
}
