/** Flags of `mca proxy` and their resolution (pure). */
// The leaf, not common/mod.ts: main.ts imports this file for every command (see PROXY_DEFAULTS).
import { parseListenAddress } from "../common/listen_address.ts";
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

/** The flags' defaults, also declared to commander by main.ts (so `--help` shows them). */
export const PROXY_DEFAULTS = {
  listen: "127.0.0.1:6443",
  /** In a pod only: in workstation mode (--contexts) there is no health listener. */
  healthListen: "0.0.0.0:16443",
  serviceAccountDir: "/var/run/secrets/kubernetes.io/serviceaccount",
  /** The largest body read for routing: the API server's own default limit (3 MiB). */
  maxBodyBytes: String(3 * 1024 * 1024),
  logLevel: "info",
  /** In a pod; text in workstation mode. */
  logFormat: "json",
} as const satisfies ProxyOptions;

/** Resolves flags; throws a message naming the flag. */
export function resolveProxyOptions(options: ProxyOptions): ResolvedProxyOptions {
  const contexts = options.contexts?.split(",").map((c) => c.trim()).filter(Boolean);
  if (options.contexts !== undefined && !contexts?.length) {
    throw new Error(`Invalid --contexts "${options.contexts}": name at least one context`);
  }
  if (options.writeKubeconfig && !contexts) {
    throw new Error("--write-kubeconfig needs --contexts (workstation mode)");
  }
  const maxBodyBytes = Number(options.maxBodyBytes ?? PROXY_DEFAULTS.maxBodyBytes);
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes <= 0) {
    throw new Error(
      `Invalid --max-body-bytes "${options.maxBodyBytes}": a positive number of bytes`,
    );
  }
  const health = options.healthListen ?? (contexts ? "" : PROXY_DEFAULTS.healthListen);
  return {
    listen: parseListenAddress(options.listen ?? PROXY_DEFAULTS.listen, "--listen"),
    ...(health ? { healthListen: parseListenAddress(health, "--health-listen") } : {}),
    ...(options.config ? { configPath: options.config } : {}),
    ...(options.appCredentialsDir ? { appCredentialsDir: options.appCredentialsDir } : {}),
    ...(options.stateDir ? { stateDir: options.stateDir } : {}),
    serviceAccountDir: options.serviceAccountDir ?? PROXY_DEFAULTS.serviceAccountDir,
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
    logLevel: options.logLevel ?? PROXY_DEFAULTS.logLevel,
    logFormat: options.logFormat ?? (contexts ? "text" : PROXY_DEFAULTS.logFormat),
  };
}
