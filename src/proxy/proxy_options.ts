/** Flags of `mca proxy` and their resolution (pure). */
import { parseListenAddress } from "../common/mod.ts";
import type { LogLevel } from "../log/mod.ts";

/** What the user may pass. */
export interface ProxyOptions {
  listen?: string;
  /** "" switches the health listener off. */
  healthListen?: string;
  config?: string;
  appCredentialsDir?: string;
  stateDir?: string;
  serviceAccountDir?: string;
  kubeconfig?: string;
  /** Workstation mode: a comma-separated list of kubeconfig contexts to serve. */
  contexts?: string;
  writeKubeconfig?: string;
  maxBodyBytes?: string;
  logLevel?: LogLevel;
  logFormat?: "json" | "text";
}

/** Every setting decided. */
export interface ResolvedProxyOptions {
  listen: { hostname: string; port: number };
  healthListen?: { hostname: string; port: number };
  configPath?: string;
  appCredentialsDir?: string;
  /** Where the proxy keeps its token and CA across restarts; never a folder the apps mount. */
  stateDir?: string;
  serviceAccountDir: string;
  workstation?: { kubeconfig?: string; contexts: string[]; writeKubeconfig?: string };
  maxBodyBytes: number;
  logLevel: LogLevel;
  logFormat: "json" | "text";
}

/** The default limit on request bodies the proxy reads: the API server's own default (3 MiB). */
export const DEFAULT_MAX_BODY_BYTES = 3 * 1024 * 1024;

/** Resolves flags; throws a message naming the flag. */
export function resolveProxyOptions(options: ProxyOptions): ResolvedProxyOptions {
  const contexts = options.contexts?.split(",").map((c) => c.trim()).filter(Boolean);
  if (options.contexts !== undefined && !contexts?.length) {
    throw new Error(`Invalid --contexts "${options.contexts}": name at least one context`);
  }
  if (options.writeKubeconfig && !contexts) {
    throw new Error("--write-kubeconfig needs --contexts (workstation mode)");
  }
  const maxBodyBytes = Number(options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes <= 0) {
    throw new Error(
      `Invalid --max-body-bytes "${options.maxBodyBytes}": a positive number of bytes`,
    );
  }
  const health = options.healthListen ?? (contexts ? "" : "0.0.0.0:16443");
  return {
    listen: parseListenAddress(options.listen ?? "127.0.0.1:6443", "--listen"),
    ...(health ? { healthListen: parseListenAddress(health, "--health-listen") } : {}),
    ...(options.config ? { configPath: options.config } : {}),
    ...(options.appCredentialsDir ? { appCredentialsDir: options.appCredentialsDir } : {}),
    ...(options.stateDir ? { stateDir: options.stateDir } : {}),
    serviceAccountDir: options.serviceAccountDir ?? "/var/run/secrets/kubernetes.io/serviceaccount",
    ...(contexts
      ? {
        workstation: {
          contexts,
          ...(options.kubeconfig ? { kubeconfig: options.kubeconfig } : {}),
          ...(options.writeKubeconfig ? { writeKubeconfig: options.writeKubeconfig } : {}),
        },
      }
      : {}),
    maxBodyBytes,
    logLevel: options.logLevel ?? "info",
    logFormat: options.logFormat ?? (contexts ? "text" : "json"),
  };
}
