/**
 * The hub–agent wire contract of the connect request (pure): the headers an agent sends when it
 * opens its tunnel, and how the two ends agree on a tunnel protocol version.
 *
 * Versioning lets the hub and the agents be upgraded one at a time: each end speaks every
 * version from MIN_TUNNEL_VERSION to TUNNEL_VERSION. The agent announces the newest it speaks;
 * the hub answers the 101 with the version both speak (the lower of the two) and refuses an
 * agent older than its minimum with 426. An agent of a release without the header speaks
 * version 1; a hub that sends no answer header speaks version 1.
 */

/** The member cluster's name. Not `X-Mca-Cluster`, which answers carry to name their cluster. */
export const AGENT_CLUSTER_HEADER = "x-mca-agent-cluster";
/** Where agents of the previous release send the cluster's name; read by the hub for one release. */
export const LEGACY_AGENT_CLUSTER_HEADER = "x-mca-cluster";
/** A random id per agent process, to tell replicas of one cluster's agent apart in logs. */
export const AGENT_ID_HEADER = "x-mca-agent";
/** The member API server's gitVersion, shown by the hub. */
export const MEMBER_VERSION_HEADER = "x-mca-member-version";
/** The newest tunnel version the sender speaks; on the hub's 101, the version both speak. */
export const TUNNEL_VERSION_HEADER = "x-mca-tunnel-version";

/**
 * The tunnel protocol this release speaks: yamux over a binary WebSocket with length-prefixed
 * heads (1); from 2 the agent also opens a trust stream to the hub (trust_contract.ts).
 */
export const TUNNEL_VERSION: number = 2;
/** The oldest tunnel protocol this release still speaks. */
export const MIN_TUNNEL_VERSION: number = 1;

/** What an agent says about itself when it connects. */
export interface AgentHello {
  cluster: string;
  agentId: string;
  memberVersion: string;
}

/** The connect request's headers (besides the agent's token). */
export function connectHeaders(hello: AgentHello): Record<string, string> {
  return {
    [AGENT_CLUSTER_HEADER]: hello.cluster,
    [AGENT_ID_HEADER]: hello.agentId,
    [MEMBER_VERSION_HEADER]: hello.memberVersion,
    [TUNNEL_VERSION_HEADER]: String(TUNNEL_VERSION),
  };
}

type Headers = Record<string, string | string[] | undefined>;

/** Reads an agent's connect headers (lowercase names); the cluster name is not checked here. */
export function readAgentHello(headers: Headers): AgentHello {
  return {
    cluster: first(headers[AGENT_CLUSTER_HEADER] ?? headers[LEGACY_AGENT_CLUSTER_HEADER]),
    agentId: first(headers[AGENT_ID_HEADER]) || "unknown",
    memberVersion: first(headers[MEMBER_VERSION_HEADER]),
  };
}

/**
 * The version both ends speak, from the other end's header (absent: version 1), or undefined
 * when they share none.
 */
export function agreedTunnelVersion(
  theirs: string | string[] | undefined,
): number | undefined {
  const announced = theirs === undefined ? 1 : Number(first(theirs));
  if (!Number.isInteger(announced) || announced < 1) return undefined;
  const agreed = Math.min(announced, TUNNEL_VERSION);
  return agreed >= MIN_TUNNEL_VERSION ? agreed : undefined;
}

function first(value: string | string[] | undefined): string {
  return Array.isArray(value) ? value[0] ?? "" : value ?? "";
}
