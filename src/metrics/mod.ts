/**
 * Prometheus metrics for every server mode.
 *
 * @module
 */
export * from "./registry.ts";
export * from "./process_metrics.ts";
