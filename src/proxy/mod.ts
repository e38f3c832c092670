/**
 * `mca proxy`: the transparent multi-cluster Kubernetes API proxy.
 *
 * @module
 */
export * from "./request_info.ts";
export * from "./label_selector.ts";
export * from "./body_metadata.ts";
export * from "./proxy_config.ts";
export * from "./route.ts";
export * from "./owner_index.ts";
export * from "./proxy_handler.ts";
export * from "./proxy_metrics.ts";
export * from "./proxy_options.ts";
export * from "./load_proxy_config.ts";
export * from "./cluster_upstreams.ts";
export * from "./app_credentials.ts";
export * from "./health_app.ts";
export * from "./explain.ts";
export * from "./run_proxy.ts";
