/** Reading kubeconfig files from disk (the I/O edge of the kubeconfig code). */
import { resolve } from "node:path";
import type { ClientConfig } from "./client_config.ts";
import { inClusterConfig } from "./in_cluster_config.ts";
import { KubeconfigError } from "./kubeconfig_error.ts";
import { mergeKubeconfigs } from "./kubeconfig_merge.ts";
import { parseKubeconfig } from "./kubeconfig_parse.ts";
import { kubeconfigPaths } from "./kubeconfig_paths.ts";
import type { Kubeconfig } from "./kubeconfig_types.ts";
import {
  type ContextSelection,
  type ReadTextFile,
  resolveClientConfig,
} from "./resolve_client_config.ts";

/** Where to load from: flags and environment, with the file system as a dependency. */
export interface LoadKubeconfigOptions extends ContextSelection {
  /** `--kubeconfig`. */
  kubeconfig?: string;
  /** Environment lookup; default Deno.env. */
  env?: (name: string) => string | undefined;
  readTextFile?: ReadTextFile;
}

/** Reads and merges the kubeconfig files that kubectl would read. */
export async function loadKubeconfig(options: LoadKubeconfigOptions = {}): Promise<Kubeconfig> {
  const env = options.env ?? ((name: string) => Deno.env.get(name));
  const readTextFile = options.readTextFile ?? Deno.readTextFile;
  const kubeconfigEnv = env("KUBECONFIG");
  const home = env("HOME");
  const { paths, mustExist, origin } = kubeconfigPaths({
    ...(options.kubeconfig ? { explicitPath: options.kubeconfig } : {}),
    ...(kubeconfigEnv ? { kubeconfigEnv } : {}),
    ...(home ? { home } : {}),
  });
  const configs: Kubeconfig[] = [];
  for (const path of paths.map((p) => resolve(p))) {
    let text: string;
    try {
      text = await readTextFile(path);
    } catch (error) {
      // kubectl skips KUBECONFIG entries and a default file that do not exist.
      if (!mustExist && error instanceof Deno.errors.NotFound) continue;
      throw new KubeconfigError(
        `cannot read the file (from ${origin}): ${(error as Error).message}`,
        {
          file: path,
        },
      );
    }
    configs.push(parseKubeconfig(text, path));
  }
  if (configs.length === 0) {
    const tried = paths.length > 0
      ? `tried ${paths.map((p) => `"${p}"`).join(", ")}`
      : "HOME is not set";
    throw new KubeconfigError(
      `no kubeconfig found (${tried}); pass --kubeconfig or set KUBECONFIG`,
    );
  }
  return mergeKubeconfigs(configs);
}

/** Loads kubeconfig and resolves the chosen context into a ClientConfig. */
export async function loadClientConfig(options: LoadKubeconfigOptions = {}): Promise<ClientConfig> {
  const config = await loadKubeconfig(options);
  return await resolveClientConfig(config, options, options.readTextFile ?? Deno.readTextFile);
}

/** A kubeconfig context when one is named (flags), else the pod's in-cluster configuration. */
export async function loadClientConfigOrInCluster(
  options: { kubeconfig?: string; context?: string },
): Promise<ClientConfig> {
  if (!options.kubeconfig && !options.context) return await inClusterConfig();
  return await loadClientConfig({
    ...(options.kubeconfig ? { kubeconfig: options.kubeconfig } : {}),
    ...(options.context ? { context: options.context } : {}),
  });
}
