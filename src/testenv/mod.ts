/**
 * Real clusters for tests and the demo: kube-apiserver and etcd built from Go modules, started
 * on loopback, and optionally a real node per cluster (containerd, kubelet, kube-proxy, CNI)
 * with kube-controller-manager, kube-scheduler, CoreDNS and locally built images. Read README.md
 * here. Also the tools that validate the Helm chart (helm, kubeconform and its Kubernetes
 * schemas), built the same way.
 *
 * @module
 */
export * from "./versions.ts";
export * from "./binaries.ts";
export * from "./test_env.ts";
export * from "./free_port.ts";
export * from "./managed_process.ts";
export * from "./go_build.ts";
export * from "./chart_tools.ts";
export * from "./kubeconform_schemas.ts";
export * from "./host_packages.ts";
export * from "./node_binaries.ts";
export * from "./node_network.ts";
export * from "./image_build.ts";
export * from "./test_images.ts";
export * from "./mca_chart.ts";
export { shimSocket, slotLeftovers, sweepStaleTestEnvs } from "./sweep.ts";
