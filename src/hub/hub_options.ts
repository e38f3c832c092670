/** Flags of `mca hub` and their resolution (pure). */
// Leaves, not common/mod.ts: main.ts imports this file for every command (see HUB_DEFAULTS).
import { parseDuration, parseDurationOrZero } from "../common/duration.ts";
import { parseListenAddress } from "../common/listen_address.ts";
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
  /** Lifetime of the serving and peer certificates, e.g. "365d"; renewed at two thirds. */
  certValidity?: string;
  /** How often replicas look at the CA Secret for a rollover phase, e.g. "10s". */
  caCheckInterval?: string;
  kubeconfig?: string;
  context?: string;
  /** This replica's name among the hub's replicas (default: $POD_NAME). */
  replicaId?: string;
  /** Listener for other replicas only (mutual TLS required). */
  peerListen?: string;
  /** How other replicas reach this one, https://ip:port (default: $POD_IP and the peer port). */
  peerUrl?: string;
  /** Serves the aggregated entrance to the host API server's front proxy. */
  aggregatedApi?: boolean;
  /** With aggregatedApi, the APIService whose caBundle the hub keeps current ("" for none). */
  apiService?: string;
  logLevel?: LogLevel;
  logFormat?: "json" | "text";
  /** How long an agent's previous token stays accepted after a rotation, e.g. "2m". */
  agentTokenOverlap?: string;
  /** Host reads at once for checking agents' tokens (a number, as commander passes text). */
  agentAuthConcurrency?: string;
  /** Ordinary requests in flight per caller on this replica ("0": no limit). */
  maxRequestsPerCaller?: string;
  /** After SIGTERM, how long the hub keeps answering while endpoints drop it, e.g. "5s". */
  shutdownDelay?: string;
}

/** Every setting decided. */
export interface ResolvedHubOptions {
  listen: { hostname: string; port: number };
  namespace: string;
  caSecret: string;
  dnsNames: string[];
  ipAddresses: string[];
  /** Lifetime of the serving and peer certificates (the CA is not rotated by the hub). */
  certValidityMs: number;
  caCheckIntervalMs: number;
  /** How long an agent's previous token stays accepted after it rotated. */
  agentTokenOverlapMs: number;
  /** Host reads at once for agents' tokens; as many again wait, more get 429. */
  agentAuthConcurrency: number;
  /** Ordinary requests in flight per caller on this replica; 0 for no limit. */
  maxRequestsPerCaller: number;
  /** After SIGTERM: answering on while endpoints drop this replica, then agents move (0: none). */
  shutdownDelayMs: number;
  kubeconfig?: string;
  context?: string;
  /** Set when this hub runs as one of several replicas. */
  replica?: { id: string; peerUrl: string; listen: { hostname: string; port: number } };
  /** Set when the aggregated entrance is served; `apiService` empty leaves its caBundle alone. */
  aggregatedApi?: { apiService: string };
  logLevel: LogLevel;
  logFormat: "json" | "text";
}

/** The flags' defaults, also declared to commander by main.ts (so `--help` shows them). */
export const HUB_DEFAULTS = {
  listen: "0.0.0.0:9443",
  /** When $POD_NAMESPACE is not set. */
  namespace: "mca-system",
  caSecret: "mca-hub-ca",
  certValidity: "365d",
  caCheckInterval: "10s",
  agentTokenOverlap: "2m",
  agentAuthConcurrency: "16",
  maxRequestsPerCaller: "100",
  shutdownDelay: "0s",
  peerListen: "0.0.0.0:9444",
  apiService: "v1alpha1.proxy.mca.k8s.io",
  logLevel: "info",
  logFormat: "json",
} as const satisfies HubOptions;

/** Resolves flags; the certificate names default to the in-cluster Service's. */
export function resolveHubOptions(
  options: HubOptions,
  env: (name: string) => string | undefined = () => undefined,
): ResolvedHubOptions {
  const namespace = options.namespace ?? env("POD_NAMESPACE") ?? HUB_DEFAULTS.namespace;
  const list = (text: string | undefined) =>
    (text ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  const dnsNames = options.dnsNames !== undefined ? list(options.dnsNames) : [
    "mca-hub",
    `mca-hub.${namespace}`,
    `mca-hub.${namespace}.svc`,
    `mca-hub.${namespace}.svc.cluster.local`,
  ];
  const listen = parseListenAddress(options.listen ?? HUB_DEFAULTS.listen, "--listen");
  const replicaId = options.replicaId ?? env("POD_NAME");
  const podIp = env("POD_IP");
  const peerListen = parseListenAddress(
    options.peerListen ?? HUB_DEFAULTS.peerListen,
    "--peer-listen",
  );
  const peerUrl = options.peerUrl ??
    (podIp
      ? `https://${podIp.includes(":") ? `[${podIp}]` : podIp}:${peerListen.port}`
      : undefined);
  if (peerUrl && !peerUrl.startsWith("https://")) {
    throw new Error(`Invalid --peer-url "${peerUrl}": replicas talk over https`);
  }
  const ipAddresses = list(options.ipAddresses);
  // Other replicas call this one by its peer address: the certificate must name it.
  const peerHost = peerUrl ? new URL(peerUrl).hostname.replace(/^\[|\]$/g, "") : undefined;
  if (peerHost && /^[\d.]+$|:/.test(peerHost) && !ipAddresses.includes(peerHost)) {
    ipAddresses.push(peerHost);
  }
  return {
    listen,
    namespace,
    caSecret: options.caSecret ?? HUB_DEFAULTS.caSecret,
    dnsNames,
    ipAddresses,
    agentTokenOverlapMs: parseDuration(
      options.agentTokenOverlap ?? HUB_DEFAULTS.agentTokenOverlap,
      "--agent-token-overlap",
    ),
    agentAuthConcurrency: positiveInteger(
      options.agentAuthConcurrency ?? HUB_DEFAULTS.agentAuthConcurrency,
      "--agent-auth-concurrency",
    ),
    maxRequestsPerCaller: wholeNumber(
      options.maxRequestsPerCaller ?? HUB_DEFAULTS.maxRequestsPerCaller,
      "--max-requests-per-caller",
      0,
    ),
    shutdownDelayMs: parseDurationOrZero(
      options.shutdownDelay ?? HUB_DEFAULTS.shutdownDelay,
      "--shutdown-delay",
    ),
    certValidityMs: parseDuration(
      options.certValidity ?? HUB_DEFAULTS.certValidity,
      "--cert-validity",
    ),
    caCheckIntervalMs: parseDuration(
      options.caCheckInterval ?? HUB_DEFAULTS.caCheckInterval,
      "--ca-check-interval",
    ),
    ...(replicaId && peerUrl ? { replica: { id: replicaId, peerUrl, listen: peerListen } } : {}),
    ...(options.aggregatedApi
      ? { aggregatedApi: { apiService: options.apiService ?? HUB_DEFAULTS.apiService } }
      : {}),
    ...(options.kubeconfig ? { kubeconfig: options.kubeconfig } : {}),
    ...(options.context ? { context: options.context } : {}),
    logLevel: options.logLevel ?? HUB_DEFAULTS.logLevel,
    logFormat: options.logFormat ?? HUB_DEFAULTS.logFormat,
  };
}

function positiveInteger(text: string, flag: string): number {
  return wholeNumber(text, flag, 1);
}

function wholeNumber(text: string, flag: string, least: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || value < least) {
    throw new Error(`Invalid ${flag} "${text}": a whole number of at least ${least} is expected`);
  }
  return value;
}
