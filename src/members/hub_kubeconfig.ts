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

/** What the kubeconfig is made from. */
export interface HubKubeconfigRequest {
  hubUrl: string;
  /** The hub's CA certificate. */
  caPem: string;
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
  const userName = config.contexts.find((c) => c.name === contextName)?.value.user ?? "";
  const user = config.users.find((u) => u.name === userName);
  if (!user) {
    throw new Error(`Context "${contextName}" has no user to copy into the hub kubeconfig`);
  }
  const clusters = request.clusters ?? await registeredClusters(config, request.context);
  if (clusters.length === 0) {
    throw new Error("No member clusters: register one with the hub, or pass --clusters");
  }
  const text = memberKubeconfig({
    hubUrl: request.hubUrl,
    caPem: request.caPem,
    clusters,
    user: hubUserOf(user.value, user.name),
    ...(request.prefix ? { prefix: request.prefix } : {}),
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
