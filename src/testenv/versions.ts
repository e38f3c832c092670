/** The control-plane versions the test environment builds; the Go wrapper modules pin the same. */

/** kube-apiserver release (k8s.io/kubernetes). */
export const KUBERNETES_VERSION = "v1.34.10";

/** etcd release that Kubernetes 1.34 pairs with (k8s.io/kubernetes go.mod requires 3.6.4). */
export const ETCD_VERSION = "v3.6.4";
