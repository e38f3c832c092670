/**
 * `mca agent`: dials the hub and serves tunnelled requests against its own cluster.
 *
 * @module
 */
export * from "./agent_options.ts";
export * from "./agent_handler.ts";
export * from "./agent_metrics.ts";
export * from "./run_agent.ts";
