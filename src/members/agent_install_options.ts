/** Flags of `mca agent install` and `mca agent manifest`, and their defaults. */
// Leaves, not mod.ts: main.ts imports this file for every command (see AGENT_INSTALL_DEFAULTS).
import { parseDuration } from "../common/duration.ts";
import { parseProxyUrl } from "../tunnel/egress_proxy.ts";

/** What the user may pass to either command. */
export interface AgentInstallOptions {
  hub?: string;
  cluster?: string;
  kubeconfig?: string;
  context?: string;
  memberKubeconfig?: string;
  memberContext?: string;
  hubNamespace?: string;
  hubCaSecret?: string;
  agentNamespace?: string;
  image?: string;
  replicas?: string;
  wait?: string;
  dryRun?: boolean;
  hubCaFile?: string;
  actAsAgent?: string;
  /** Adds a PodMonitor for the agents' /metrics. */
  podMonitor?: boolean;
  httpsProxy?: string;
  noProxy?: string;
  keepaliveInterval?: string;
  /** `mca agent manifest` only: the join token the agent redeems. */
  joinToken?: string;
  /** The agents' `--token-rotation-interval`. */
  tokenRotationInterval?: string;
}

/** How the agent reaches the hub, passed on by its Deployment. */
export interface AgentEgress {
  /** HTTPS_PROXY of the agent; kept in its Secret when the URL carries credentials. */
  httpsProxy?: string;
  /** NO_PROXY of the agent. */
  noProxy?: string;
  /** `--keepalive-interval` of the agent. */
  keepaliveInterval?: string;
}

/**
 * The egress flags, checked as the agent will read them; throws a message naming the flag (and
 * never a proxy's credentials).
 */
export function resolveAgentEgress(options: AgentInstallOptions): AgentEgress {
  if (options.httpsProxy) parseProxyUrl(options.httpsProxy, "--https-proxy");
  if (options.keepaliveInterval) parseDuration(options.keepaliveInterval, "--keepalive-interval");
  return {
    ...(options.httpsProxy ? { httpsProxy: options.httpsProxy } : {}),
    ...(options.noProxy ? { noProxy: options.noProxy } : {}),
    ...(options.keepaliveInterval ? { keepaliveInterval: options.keepaliveInterval } : {}),
  };
}

/** The flags' defaults, also declared to commander by main.ts (so `--help` shows them). */
export const AGENT_INSTALL_DEFAULTS = {
  agentNamespace: "mca-agent",
  replicas: "2",
  /** The hub's namespace and CA Secret as the hub itself defaults them. */
  hubNamespace: "mca-system",
  hubCaSecret: "mca-hub-ca",
  wait: "2m",
} as const satisfies AgentInstallOptions;

/** What the user may pass to `mca agent uninstall` (install's flag names). */
export type AgentUninstallOptions =
  & Pick<
    AgentInstallOptions,
    | "cluster"
    | "kubeconfig"
    | "context"
    | "memberKubeconfig"
    | "memberContext"
    | "hubNamespace"
    | "agentNamespace"
    | "dryRun"
  >
  & {
    /** A deadline, or `true` for `--wait` alone (install's default deadline). */
    wait?: string | true;
    /** Only the host's objects: the member is gone, or GitOps removes the agent there. */
    hostOnly?: boolean;
  };
