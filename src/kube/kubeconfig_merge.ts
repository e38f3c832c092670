/** Merging of several kubeconfig files by kubectl's rules (pure). */
import type { Kubeconfig, Named } from "./kubeconfig_types.ts";

/**
 * Merges parsed files in KUBECONFIG order: for clusters, users and contexts the first file
 * that defines a name wins and entries are never merged field by field; the first
 * current-context set wins (k8s.io/client-go/tools/clientcmd, loader.go).
 */
export function mergeKubeconfigs(configs: Kubeconfig[]): Kubeconfig {
  const merged: Kubeconfig = { clusters: [], users: [], contexts: [], files: [] };
  for (const config of configs) {
    merged.clusters = firstWins(merged.clusters, config.clusters);
    merged.users = firstWins(merged.users, config.users);
    merged.contexts = firstWins(merged.contexts, config.contexts);
    if (merged["current-context"] === undefined && config["current-context"] !== undefined) {
      merged["current-context"] = config["current-context"];
      if (config.currentContextFile) merged.currentContextFile = config.currentContextFile;
    }
    merged.files.push(...config.files);
  }
  return merged;
}

function firstWins<T>(existing: Named<T>[], added: Named<T>[]): Named<T>[] {
  const names = new Set(existing.map((entry) => entry.name));
  return [...existing, ...added.filter((entry) => !names.has(entry.name))];
}
