/**
 * Real control planes for tests and the demo: kube-apiserver and etcd built from Go modules,
 * started on loopback. Read README.md here for what they cannot do. Also the tools that
 * validate the Helm chart (helm, kubeconform and its Kubernetes schemas), built the same way.
 *
 * @module
 */
export * from "./versions.ts";
export * from "./binaries.ts";
export * from "./test_env.ts";
export * from "./wait_for.ts";
export * from "./free_port.ts";
export * from "./managed_process.ts";
export * from "./go_build.ts";
export * from "./chart_tools.ts";
export * from "./kubeconform_schemas.ts";
