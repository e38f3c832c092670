/** The control-plane versions the test environment builds; the Go wrapper modules pin the same. */

/** kube-apiserver release (k8s.io/kubernetes). */
export const KUBERNETES_VERSION = "v1.34.10";

/** etcd release that Kubernetes 1.34 pairs with (k8s.io/kubernetes go.mod requires 3.6.4). */
export const ETCD_VERSION = "v3.6.4";

/** CoreDNS release of the clusters' DNS addon (Kubernetes 1.34 ships the 1.12 line). */
export const COREDNS_VERSION = "v1.12.4";
