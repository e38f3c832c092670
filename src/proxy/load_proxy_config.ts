/** Reading the proxy config: a file in the pod (optional), or the user's contexts on a workstation. */
import {
  type ClusterSpec,
  defaultProxyConfig,
  parseProxyConfig,
  type ProxyConfig,
  ProxyConfigError,
} from "./proxy_config.ts";
import type { ResolvedProxyOptions } from "./proxy_options.ts";

/**
 * Loads the configuration the options describe. In a pod a missing file means "everything to
 * the home cluster"; on a workstation each context is a cluster (the first is home and default)
 * and a config file may add routes and clusters.
 */
export async function loadProxyConfig(options: ResolvedProxyOptions): Promise<ProxyConfig> {
  const predefined = options.workstation ? contextClusters(options.workstation) : {};
  let text: string | undefined;
  if (options.configPath) {
    text = await Deno.readTextFile(options.configPath).catch((error) => {
      // The ConfigMap is optional in the pod; a file named on a workstation must exist.
      if (error instanceof Deno.errors.NotFound && !options.workstation) return undefined;
      throw new ProxyConfigError(
        options.configPath!,
        `cannot read it: ${(error as Error).message}`,
      );
    });
  }
  if (text !== undefined) return parseProxyConfig(text, options.configPath!, predefined);
  if (!options.workstation) return defaultProxyConfig();
  const home = options.workstation.contexts[0]!;
  return { home, default: home, clusters: predefined, routes: [] };
}

function contextClusters(
  workstation: NonNullable<ResolvedProxyOptions["workstation"]>,
): Record<string, ClusterSpec> {
  return Object.fromEntries(workstation.contexts.map((context) => [context, {
    type: "kubeconfig" as const,
    context,
    ...(workstation.kubeconfig ? { kubeconfig: workstation.kubeconfig } : {}),
    timeoutMs: 10_000,
  }]));
}
