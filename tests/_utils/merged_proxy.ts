/**
 * A sidecar proxy whose ConfigMaps are merged across host (as "home"), east and west, and a
 * namespace of the test's own in all three: the fixture of the merged-read end-to-end tests.
 */
import type { TestCluster, TestEnv } from "../../src/testenv/mod.ts";
import { kubectlOk, uniqueName } from "./e2e.ts";
import { type SidecarProxy, startSidecarProxy } from "./sidecar_proxy.ts";

/** The proxy, the namespace, and the three clusters (host, east, west). */
export interface MergedProxy {
  proxy: SidecarProxy;
  ns: string;
  clusters: TestCluster[];
  /** A GET (or other request) to the proxy with the app's token. */
  request(path: string, init?: RequestInit): Promise<Response>;
  stop(): Promise<void>;
}

/** Starts the proxy; `extra` adds clusters and routes (routes go before the merged one). */
export async function startMergedProxy(
  env: TestEnv,
  dir: string,
  extra: { clusters?: string; routes?: string } = {},
): Promise<MergedProxy> {
  const proxy = await startSidecarProxy(
    env,
    dir,
    `
clusters:
  east: {kubeconfig: ${env.cluster("east").kubeconfigPath}, context: east}
  west: {kubeconfig: ${env.cluster("west").kubeconfigPath}, context: west}
${extra.clusters ?? ""}
routes:
${extra.routes ?? ""}
- name: configmaps-everywhere
  match: {resources: [configmaps]}
  clusters: [home, east, west]
`,
  );
  const clusters = ["host", "east", "west"].map((name) => env.cluster(name));
  const ns = uniqueName("merged");
  for (const cluster of clusters) await kubectlOk(cluster, ["create", "namespace", ns]);
  const client = Deno.createHttpClient({ caCerts: [proxy.caPem] });
  return {
    proxy,
    ns,
    clusters,
    request: (path, init = {}) =>
      fetch(`${proxy.url}${path}`, {
        ...init,
        headers: { Authorization: `Bearer ${proxy.token}`, ...init.headers },
        client,
      }),
    async stop() {
      client.close();
      await proxy.stop();
    },
  };
}
