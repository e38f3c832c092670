/**
 * `mca hub`: accepts agents, serves `/clusters/<name>/...` with host RBAC.
 *
 * @module
 */
export * from "./cluster_path.ts";
export * from "./agent_sessions.ts";
export * from "./user_access.ts";
export * from "./hub_handler.ts";
export { FORWARDED_IDENTITY_HEADER } from "./settle_target.ts";
export { PEER_COMMON_NAME } from "./hub_peers.ts";
export * from "./cluster_status.ts";
export * from "./hub_options.ts";
export * from "./run_hub.ts";
export * from "./hub_replicas.ts";
export * from "./cluster_identity.ts";
export * from "./hub_ca_state.ts";
export * from "./hub_ca_rollover.ts";
