/**
 * `mca kubeconfig --via-host-api-server`: a context per member cluster that reaches it through the
 * host API server's aggregated entrance (`/apis/proxy.mca.k8s.io/v1alpha1/clusters/<name>/proxy`),
 * with the host cluster's CA and the caller's own user entry, copied unchanged: client
 * certificates, exec plugins and OIDC auth-providers all work, because the host API server
 * authenticates them. Pure.
 */
import { stringify } from "yaml";
import { encodeBase64, type KubeconfigCluster, type KubeconfigUser } from "../kube/mod.ts";

/** The path of a member below the host API server. */
export function hostProxyPath(cluster: string): string {
  return `/apis/proxy.mca.k8s.io/v1alpha1/clusters/${cluster}/proxy`;
}

/** Renders the kubeconfig: context and cluster "<prefix><name>", all with the one host user. */
export function hostProxyKubeconfig(options: {
  host: KubeconfigCluster;
  clusters: string[];
  userName: string;
  user: KubeconfigUser;
  prefix?: string;
}): string {
  const { host, userName } = options;
  if (!host.server) throw new Error("The host context's cluster has no server");
  const base = host.server.replace(/\/+$/, "");
  const names = options.clusters.map((cluster) => `${options.prefix ?? ""}${cluster}`);
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: options.clusters.map((cluster, i) => ({
      name: names[i],
      cluster: clusterEntry(host, `${base}${hostProxyPath(cluster)}`),
    })),
    users: [{ name: userName, user: userEntry(options.user) }],
    contexts: names.map((name) => ({ name, context: { cluster: name, user: userName } })),
    "current-context": names[0] ?? "",
  });
}

/** The host's cluster entry at another path: same CA, server name, proxy and TLS settings. */
function clusterEntry(host: KubeconfigCluster, server: string): Record<string, unknown> {
  return dropUndefined({
    server,
    "certificate-authority": host["certificate-authority"],
    "certificate-authority-data": host["certificate-authority-data"] !== undefined
      ? encodeBase64(host["certificate-authority-data"])
      : undefined,
    "tls-server-name": host["tls-server-name"],
    "insecure-skip-tls-verify": host["insecure-skip-tls-verify"],
    "proxy-url": host["proxy-url"],
    "disable-compression": host["disable-compression"],
  });
}

/** The user as the kubeconfig had it (data fields encoded again; file paths already absolute). */
function userEntry(user: KubeconfigUser): Record<string, unknown> {
  const encode = (pem: string | undefined) => pem === undefined ? undefined : encodeBase64(pem);
  return dropUndefined({
    ...user,
    "client-certificate-data": encode(user["client-certificate-data"]),
    "client-key-data": encode(user["client-key-data"]),
  });
}

function dropUndefined(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
}
