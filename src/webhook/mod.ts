/**
 * `mca webhook`: the mutating admission webhook that injects the sidecar on pod creation.
 *
 * @module
 */
export * from "./admission_review.ts";
export * from "./admit_pod.ts";
export * from "./webhook_app.ts";
export * from "./webhook_configuration.ts";
export * from "./configuration_sync.ts";
export * from "./webhook_options.ts";
export * from "./run_webhook.ts";
