/** Turning the configured clusters into upstreams (the I/O of reading kubeconfigs and service-account files). */
import { type ClientConfig, inClusterConfig, loadClientConfig } from "../kube/mod.ts";
import type { Logger } from "../log/mod.ts";
import type { ClusterSpec, ProxyConfig } from "./proxy_config.ts";
import { createUpstream, type Upstream } from "../forward/mod.ts";

/** Upstreams by cluster name, and why a cluster has none. */
export interface ClusterUpstreams {
  upstreams: Map<string, Upstream>;
  unavailable: Map<string, string>;
}

/** Where the home cluster's in-cluster credentials come from. */
export interface InClusterSource {
  serviceAccountDir: string;
  env?: (name: string) => string | undefined;
}

/** Builds an upstream per cluster; a cluster that cannot be set up fails the whole config (nothing half-applied). */
export async function buildUpstreams(
  config: ProxyConfig,
  options: { inCluster: InClusterSource; logger: Logger },
): Promise<ClusterUpstreams> {
  const upstreams = new Map<string, Upstream>();
  const unavailable = new Map<string, string>();
  try {
    for (const [name, spec] of Object.entries(config.clusters)) {
      const clientConfig = spec.type === "hub"
        ? await hubClientConfig(name, spec, options.inCluster)
        : await clientConfigFor(name, spec, options.inCluster);
      // The app's Impersonate-* headers go where the server decides on them with the app's own
      // identity (home, the hub); to a kubeconfig cluster only where it opts in.
      const passImpersonation = spec.type !== "kubeconfig" || spec.passImpersonation === true;
      upstreams.set(
        name,
        createUpstream(name, clientConfig, {
          logger: options.logger,
          timeoutMs: spec.timeoutMs,
          passImpersonation,
        }),
      );
    }
  } catch (error) {
    for (const upstream of upstreams.values()) upstream.close();
    throw error;
  }
  return { upstreams, unavailable };
}

/**
 * A member reached through the hub: `<hub>/clusters/<member>` with the pod's own
 * service-account token, which the hub checks on the host (DESIGN.md §3, flow 2).
 */
async function hubClientConfig(
  name: string,
  spec: Extract<ClusterSpec, { type: "hub" }>,
  inCluster: InClusterSource,
): Promise<ClientConfig> {
  let caPem: string | undefined;
  if (spec.caFile) {
    caPem = await Deno.readTextFile(spec.caFile).catch((error) => {
      throw new Error(
        `Cluster "${name}": cannot read caFile "${spec.caFile}": ${(error as Error).message}`,
      );
    });
  }
  return {
    server: `${spec.hub.replace(/\/+$/, "")}/clusters/${encodeURIComponent(spec.cluster)}`,
    tls: { ...(caPem ? { caPem } : {}), insecureSkipVerify: false },
    disableCompression: false,
    credentials: { type: "tokenFile", path: `${inCluster.serviceAccountDir}/token` },
    namespace: "default",
    source: `cluster "${name}" via the hub ${spec.hub}`,
  };
}

async function clientConfigFor(
  name: string,
  spec: Exclude<ClusterSpec, { type: "hub" }>,
  inCluster: InClusterSource,
): Promise<ClientConfig> {
  try {
    if (spec.type === "inCluster") {
      return await inClusterConfig({
        serviceAccountDir: inCluster.serviceAccountDir,
        ...(inCluster.env ? { env: inCluster.env } : {}),
      });
    }
    return await loadClientConfig({
      ...(spec.kubeconfig ? { kubeconfig: spec.kubeconfig } : {}),
      ...(spec.context ? { context: spec.context } : {}),
    });
  } catch (error) {
    throw new Error(`Cluster "${name}": ${(error as Error).message}`);
  }
}
