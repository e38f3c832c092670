/** Flags of `mca hub` and their resolution (pure). */
import { parseListenAddress } from "../cli/duration.ts";
import type { LogLevel } from "../log/mod.ts";

/** What the user may pass. */
export interface HubOptions {
  listen?: string;
  namespace?: string;
  caSecret?: string;
  /** Comma-separated DNS names for the serving certificate. */
  dnsNames?: string;
  /** Comma-separated IP addresses for the serving certificate. */
  ipAddresses?: string;
  kubeconfig?: string;
  context?: string;
  logLevel?: LogLevel;
  logFormat?: "json" | "text";
}

/** Every setting decided. */
export interface ResolvedHubOptions {
  listen: { hostname: string; port: number };
  namespace: string;
  caSecret: string;
  dnsNames: string[];
  ipAddresses: string[];
  kubeconfig?: string;
  context?: string;
  logLevel: LogLevel;
  logFormat: "json" | "text";
}

/** Resolves flags; the certificate names default to the in-cluster Service's. */
export function resolveHubOptions(
  options: HubOptions,
  env: (name: string) => string | undefined = () => undefined,
): ResolvedHubOptions {
  const namespace = options.namespace ?? env("POD_NAMESPACE") ?? "mca-system";
  const list = (text: string | undefined) =>
    (text ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  const dnsNames = options.dnsNames !== undefined ? list(options.dnsNames) : [
    "mca-hub",
    `mca-hub.${namespace}`,
    `mca-hub.${namespace}.svc`,
    `mca-hub.${namespace}.svc.cluster.local`,
  ];
  return {
    listen: parseListenAddress(options.listen ?? "0.0.0.0:9443", "--listen"),
    namespace,
    caSecret: options.caSecret ?? "mca-hub-ca",
    dnsNames,
    ipAddresses: list(options.ipAddresses),
    ...(options.kubeconfig ? { kubeconfig: options.kubeconfig } : {}),
    ...(options.context ? { context: options.context } : {}),
    logLevel: options.logLevel ?? "info",
    logFormat: options.logFormat ?? "json",
  };
}
