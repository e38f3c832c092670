/** The labels, annotations, names, paths and ports of the injected sidecar: the contract with users and with `mca proxy`. */

/** Pod label (or namespace label, see the webhook) that opts a pod in: "true". An annotation with "false" opts out. */
export const INJECT_LABEL = "mca.k8s.io/inject";
/** Annotation recording that a pod was injected, with the version that did it. */
export const STATUS_ANNOTATION = "mca.k8s.io/status";
/** Annotations that tune the sidecar. */
export const IMAGE_ANNOTATION = "mca.k8s.io/proxy-image";
export const CONFIG_ANNOTATION = "mca.k8s.io/config";
export const LOG_LEVEL_ANNOTATION = "mca.k8s.io/log-level";
export const CPU_REQUEST_ANNOTATION = "mca.k8s.io/proxy-cpu-request";
export const MEMORY_REQUEST_ANNOTATION = "mca.k8s.io/proxy-memory-request";
export const CPU_LIMIT_ANNOTATION = "mca.k8s.io/proxy-cpu-limit";
export const MEMORY_LIMIT_ANNOTATION = "mca.k8s.io/proxy-memory-limit";
/** Opt-in for pods with automountServiceAccountToken: false (the proxy still gets the pod's token explicitly). */
export const ALLOW_NO_AUTOMOUNT_ANNOTATION = "mca.k8s.io/inject-without-automount";

/** The sidecar container. */
export const SIDECAR_NAME = "mca-proxy";
/** Volumes the injection adds. */
export const APP_CREDENTIALS_VOLUME = "mca-app-credentials";
export const POD_CREDENTIALS_VOLUME = "mca-pod-credentials";
export const STATE_VOLUME = "mca-proxy-state";
export const CONFIG_VOLUME = "mca-config";

/** Where apps look for in-cluster credentials; the proxy's own files are mounted there. */
export const SERVICE_ACCOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount";
/** Where the proxy writes the app's ca.crt, namespace and token (the same emptyDir). */
export const APP_CREDENTIALS_PATH = "/var/run/mca/app";
/**
 * Where the proxy reads the pod's real service-account token, CA and namespace: the standard
 * path, so that every container of an injected pod mounts something there and the
 * ServiceAccount admission plugin adds no `kube-api-access-*` volume, whether it runs before
 * the injection (`mca inject`) or after it (the webhook).
 */
export const POD_CREDENTIALS_PATH = SERVICE_ACCOUNT_PATH;
/**
 * Where the proxy keeps its identity (the app's token and the CA's private key) across
 * restarts of its container: a volume only the sidecar mounts, never the apps' one.
 */
export const STATE_PATH = "/var/run/mca/state";
/** Where the routing config ConfigMap is mounted. */
export const CONFIG_PATH = "/etc/mca/proxy";
export const CONFIG_FILE = "config.yaml";

/** The proxy's API listener (loopback only) and health listener (pod IP, for the kubelet's probes). */
export const PROXY_HOST = "127.0.0.1";
export const PROXY_PORT = 6443;
export const HEALTH_PORT = 16443;

/** Default ConfigMap name for the routing config. */
export const DEFAULT_CONFIG_NAME = "mca-proxy";
