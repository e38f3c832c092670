/**
 * Kubernetes client configuration (kubeconfig, in-cluster) and a small typed REST client.
 *
 * @module
 */
export * from "./kubeconfig_types.ts";
export * from "./kubeconfig_error.ts";
export * from "./kubeconfig_parse.ts";
export * from "./kubeconfig_merge.ts";
export * from "./kubeconfig_paths.ts";
export * from "./client_config.ts";
export * from "./resolve_client_config.ts";
export * from "./load_kubeconfig.ts";
export * from "./kubeconfig_render.ts";
export * from "./in_cluster_config.ts";
export * from "./credentials.ts";
export * from "./token_file_provider.ts";
export * from "./exec_credential.ts";
export * from "./exec_provider.ts";
export * from "./transport.ts";
export * from "./api_error.ts";
export * from "./resource_path.ts";
export * from "./watch_stream.ts";
export * from "./rest_client.ts";
export { encodeBase64 } from "./_base64.ts";
