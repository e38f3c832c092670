/** Which kubeconfig files to read, by kubectl's precedence (pure). */
import { join } from "node:path";

/** Inputs that decide where kubeconfig comes from. */
export interface KubeconfigPathsOptions {
  /** `--kubeconfig`: exactly this file, which must exist. */
  explicitPath?: string;
  /** The KUBECONFIG environment variable. */
  kubeconfigEnv?: string;
  /** The home directory, for the `~/.kube/config` default. */
  home?: string;
  /** Path list separator; ":" except on Windows. */
  separator?: string;
}

/** The files to read, and whether a missing one is an error. */
export interface KubeconfigPaths {
  paths: string[];
  /** True for `--kubeconfig`; KUBECONFIG entries and the default may be missing. */
  mustExist: boolean;
  /** Where the list came from, for messages. */
  origin: "--kubeconfig" | "KUBECONFIG" | "default";
}

/** Decides the files: `--kubeconfig`, else KUBECONFIG (deduplicated, empty parts dropped), else `~/.kube/config`. */
export function kubeconfigPaths(options: KubeconfigPathsOptions): KubeconfigPaths {
  if (options.explicitPath) {
    return { paths: [options.explicitPath], mustExist: true, origin: "--kubeconfig" };
  }
  if (options.kubeconfigEnv) {
    const parts = options.kubeconfigEnv.split(options.separator ?? ":").filter((part) =>
      part !== ""
    );
    return { paths: [...new Set(parts)], mustExist: false, origin: "KUBECONFIG" };
  }
  const home = options.home ?? "";
  return {
    paths: home ? [join(home, ".kube", "config")] : [],
    mustExist: false,
    origin: "default",
  };
}
