/** Flags of `mca agent install` and `mca agent manifest`, and their defaults. */

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
export interface AgentUninstallOptions {
  cluster?: string;
  kubeconfig?: string;
  context?: string;
  memberKubeconfig?: string;
  memberContext?: string;
  hubNamespace?: string;
  agentNamespace?: string;
  /** A deadline, or `true` for `--wait` alone (install's default deadline). */
  wait?: string | true;
  dryRun?: boolean;
}
