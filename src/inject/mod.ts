/**
 * Sidecar injection: the pure core shared by `mca inject` and `mca webhook`.
 *
 * @module
 */
export * from "./names.ts";
export * from "./kube_types.ts";
export * from "./inject_settings.ts";
export * from "./sidecar.ts";
export * from "./inject_pod.ts";
export * from "./workloads.ts";
export * from "./json_patch.ts";
export * from "./manifests.ts";
