/**
 * Prometheus metrics for every server mode.
 *
 * @module
 */
export * from "./registry.ts";
