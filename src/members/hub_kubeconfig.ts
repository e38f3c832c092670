/**
 * `mca kubeconfig`'s work: the caller's own user from their kubeconfig, the member clusters
 * registered on the host (unless named), and the kubeconfig that reaches them through the hub.
 */
import {
  createKubeClient,
  createKubeTransport,
  type Kubeconfig,
  loadKubeconfig,
  resolveClientConfig,
} from "../kube/mod.ts";
import { hubUserOf, memberKubeconfig } from "./member_kubeconfig.ts";
import { hostProxyKubeconfig } from "./host_proxy_kubeconfig.ts";

/** What the kubeconfig is made from. */
export interface HubKubeconfigRequest {
  /** The hub and its CA certificate; or, without them, contexts through the host API server. */
  hub?: { url: string; caPem: string } | undefined;
  /** Member names; default: every Cluster object on the host. */
  clusters?: string[] | undefined;
  /** The caller's kubeconfig file and context, whose user the contexts keep. */
  kubeconfig?: string | undefined;
  context?: string | undefined;
  prefix?: string | undefined;
}

/** The kubeconfig text, and the members it has a context for. */
export async function hubKubeconfig(
  request: HubKubeconfigRequest,
): Promise<{ text: string; clusters: string[] }> {
  const config = await loadKubeconfig({
    ...(request.kubeconfig ? { kubeconfig: request.kubeconfig } : {}),
  });
  const contextName = request.context || config["current-context"] || "";
  const context = config.contexts.find((c) => c.name === contextName)?.value;
  const user = config.users.find((u) => u.name === (context?.user ?? ""));
  if (!user) {
    throw new Error(`Context "${contextName}" has no user to copy into the members' kubeconfig`);
  }
  const clusters = request.clusters ?? await registeredClusters(config, request.context);
  if (clusters.length === 0) {
    throw new Error("No member clusters: register one with the hub, or pass --clusters");
  }
  const prefix = request.prefix ? { prefix: request.prefix } : {};
  if (!request.hub) {
    const host = config.clusters.find((c) => c.name === (context?.cluster ?? ""));
    if (!host) throw new Error(`Context "${contextName}" has no cluster to reach the members by`);
    const text = hostProxyKubeconfig({
      host: host.value,
      clusters,
      userName: user.name,
      user: user.value,
      ...prefix,
    });
    return { text, clusters };
  }
  const text = memberKubeconfig({
    hubUrl: request.hub.url,
    caPem: request.hub.caPem,
    clusters,
    user: hubUserOf(user.value, user.name),
    ...prefix,
  });
  return { text, clusters };
}

/** The names of the Cluster objects on the host. */
async function registeredClusters(config: Kubeconfig, context?: string): Promise<string[]> {
  const client = createKubeClient(createKubeTransport(
    await resolveClientConfig(config, { ...(context ? { context } : {}) }, Deno.readTextFile),
  ));
  try {
    const list = await client.list<{ metadata: { name: string } }>(
      "/apis/mca.k8s.io/v1alpha1/clusters",
    );
    return list.items.map((item) => item.metadata.name);
  } finally {
    client.transport.close();
  }
}
