/** REST clients for the host and member clusters that a kubeconfig file and context name. */
import {
  createKubeClient,
  createKubeTransport,
  type KubeClient,
  loadClientConfig,
} from "../kube/mod.ts";

/** A cluster as flags name it: a kubeconfig file (default: the usual one) and a context. */
export interface ClusterRef {
  kubeconfig?: string | undefined;
  context?: string | undefined;
}

/** Runs `work` with a client per cluster, closing them all afterwards. */
export async function withClusterClients<T>(
  refs: ClusterRef[],
  work: (clients: KubeClient[]) => Promise<T>,
): Promise<T> {
  const clients: KubeClient[] = [];
  try {
    for (const ref of refs) {
      clients.push(createKubeClient(createKubeTransport(
        await loadClientConfig({
          ...(ref.kubeconfig ? { kubeconfig: ref.kubeconfig } : {}),
          ...(ref.context ? { context: ref.context } : {}),
        }),
      )));
    }
    return await work(clients);
  } finally {
    for (const client of clients) client.transport.close();
  }
}
