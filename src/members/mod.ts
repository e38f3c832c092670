/**
 * Registration of member clusters, below both runtimes: agent tokens (only their hashes are
 * kept on the host), `mca agent install` and the agent's manifests, member kubeconfigs.
 *
 * @module
 */
export * from "./agent_tokens.ts";
export * from "./join_tokens.ts";
export * from "./agent_manifests.ts";
export * from "./install_agent.ts";
export * from "./agent_install_options.ts";
export * from "./member_kubeconfig.ts";
export * from "./cluster_clients.ts";
export * from "./hub_kubeconfig.ts";
export * from "./host_proxy_kubeconfig.ts";
export * from "./uninstall_agent.ts";
