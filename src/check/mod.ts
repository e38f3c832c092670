/**
 * `mca check`, the doctor: gathers facts about a host's mca with the caller's credentials, judges
 * them with pure checks, and renders one line per check with a hint for each failure.
 *
 * @module
 */
export * from "./check_options.ts";
export * from "./check_facts.ts";
export * from "./check_result.ts";
export * from "./evaluate.ts";
export * from "./evaluate_certificates.ts";
export * from "./evaluate_clusters.ts";
export * from "./render_report.ts";
export * from "./endpoint_probe.ts";
export * from "./gather_common.ts";
export * from "./gather_facts.ts";
export * from "./run_check.ts";
