/** Flags of `mca agent` and their resolution (pure). */
// The leaf, not common/mod.ts: main.ts imports this file for every command (see AGENT_DEFAULTS).
import { parseListenAddress } from "../common/listen_address.ts";
import type { LogLevel } from "../log/mod.ts";
import { parseDuration } from "../common/duration.ts";
import { parseCaPin } from "../pki/mod.ts";
import { type EgressProxy, egressProxyFor, type EnvLookup } from "../tunnel/egress_proxy.ts";

/** What the user may pass. */
export interface AgentOptions {
  hub?: string;
  cluster?: string;
  tokenFile?: string;
  /** The agent's own Secret on the member, `name` or `namespace/name`: tokens live there. */
  agentSecret?: string;
  /** How often the agent rotates its token (needs --agent-secret); "0" never. */
  tokenRotationInterval?: string;
  hubCaFile?: string;
  hubCaPin?: string;
  /** "namespace/name" of the agent's own Secret on the member, where learned hub CAs are kept. */
  hubTrustSecret?: string;
  memberKubeconfig?: string;
  memberContext?: string;
  healthListen?: string;
  /** The yamux keepalive ping interval, e.g. "15s" (below idle timeouts of load balancers). */
  keepaliveInterval?: string;
  logLevel?: LogLevel;
  logFormat?: "json" | "text";
}

/** Every setting decided. */
export interface ResolvedAgentOptions {
  hubUrl: URL;
  cluster: string;
  tokenFile: string;
  /**
   * Where the agent keeps its token on the member (join token, agent token, a rotation's next
   * token), read and written through the API; without it the token is read from tokenFile.
   */
  agentSecret?: { namespace: string; name: string };
  /** 0: never. */
  tokenRotationIntervalMs: number;
  hubCaFile: string;
  hubCaPin: string;
  hubTrustSecret?: { namespace: string; name: string };
  memberKubeconfig?: string;
  memberContext?: string;
  healthListen?: { hostname: string; port: number };
  keepaliveIntervalMs: number;
  /** The HTTP proxy to reach the hub through (HTTPS_PROXY, unless NO_PROXY exempts the hub). */
  hubProxy?: EgressProxy;
  logLevel: LogLevel;
  logFormat: "json" | "text";
}

/** The flags' defaults, also declared to commander by main.ts (so `--help` shows them). */
export const AGENT_DEFAULTS = {
  tokenFile: "/var/run/secrets/mca/agent/token",
  hubCaFile: "/var/run/secrets/mca/agent/hub-ca.crt",
  healthListen: "0.0.0.0:8081",
  keepaliveInterval: "15s",
  tokenRotationInterval: "168h",
  logLevel: "info",
  logFormat: "json",
} as const satisfies AgentOptions;

/**
 * Resolves flags and the proxy environment (HTTPS_PROXY, NO_PROXY); throws a message naming the
 * flag or variable. Verification of the hub is not optional.
 */
export function resolveAgentOptions(
  options: AgentOptions,
  env: EnvLookup = () => undefined,
): ResolvedAgentOptions {
  const required = (value: string | undefined, flag: string) => {
    if (!value) throw new Error(`${flag} is required`);
    return value;
  };
  let hubUrl: URL;
  try {
    hubUrl = new URL(required(options.hub, "--hub"));
  } catch (error) {
    if ((error as Error).message.endsWith("is required")) throw error;
    throw new Error(`Invalid --hub "${options.hub}": not a URL`);
  }
  if (hubUrl.protocol !== "https:") {
    throw new Error(`Invalid --hub "${options.hub}": the hub is reached over https`);
  }
  const cluster = required(options.cluster, "--cluster");
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(cluster)) {
    throw new Error(`Invalid --cluster "${cluster}": a DNS label is expected`);
  }
  const health = options.healthListen ?? AGENT_DEFAULTS.healthListen;
  const hubProxy = egressProxyFor(hubUrl, env);
  return {
    hubUrl,
    cluster,
    tokenFile: options.tokenFile ?? AGENT_DEFAULTS.tokenFile,
    ...(options.agentSecret
      ? { agentSecret: parseAgentSecret(options.agentSecret, env("POD_NAMESPACE")) }
      : {}),
    tokenRotationIntervalMs: options.tokenRotationInterval === "0" ? 0 : parseDuration(
      options.tokenRotationInterval ?? AGENT_DEFAULTS.tokenRotationInterval,
      "--token-rotation-interval",
    ),
    hubCaFile: options.hubCaFile ?? AGENT_DEFAULTS.hubCaFile,
    hubCaPin: parseCaPin(required(options.hubCaPin, "--hub-ca-pin")),
    ...(options.hubTrustSecret
      ? { hubTrustSecret: parseSecretRef(options.hubTrustSecret, "--hub-trust-secret") }
      : {}),
    ...(options.memberKubeconfig ? { memberKubeconfig: options.memberKubeconfig } : {}),
    ...(options.memberContext ? { memberContext: options.memberContext } : {}),
    ...(health ? { healthListen: parseListenAddress(health, "--health-listen") } : {}),
    keepaliveIntervalMs: parseDuration(
      options.keepaliveInterval ?? AGENT_DEFAULTS.keepaliveInterval,
      "--keepalive-interval",
    ),
    ...(hubProxy ? { hubProxy } : {}),
    logLevel: options.logLevel ?? AGENT_DEFAULTS.logLevel,
    logFormat: options.logFormat ?? AGENT_DEFAULTS.logFormat,
  };
}

/** Parses "namespace/name" of a Secret; both parts DNS labels/subdomains. */
export function parseSecretRef(text: string, flag: string): { namespace: string; name: string } {
  const match = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-.a-z0-9]*[a-z0-9])?)$/.exec(text);
  if (!match) throw new Error(`Invalid ${flag} "${text}": expected "<namespace>/<name>"`);
  return { namespace: match[1]!, name: match[3]! };
}

/** `name` (in $POD_NAMESPACE) or `namespace/name`. */
function parseAgentSecret(
  text: string,
  podNamespace: string | undefined,
): { namespace: string; name: string } {
  const [first, second, ...rest] = text.split("/");
  const namespace = second === undefined ? podNamespace : first;
  const name = second ?? first;
  const label = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
  if (rest.length > 0 || !name || !label.test(name) || (namespace && !label.test(namespace))) {
    throw new Error(`Invalid --agent-secret "${text}": expected <name> or <namespace>/<name>`);
  }
  if (!namespace) {
    throw new Error(
      `--agent-secret "${text}" names no namespace and $POD_NAMESPACE is not set: use <namespace>/<name>`,
    );
  }
  return { namespace, name };
}

/** Exponential backoff with full jitter and a cap: the wait before reconnect attempt `attempt` (0-based). */
export function reconnectDelayMs(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(30_000, 500 * 2 ** Math.min(attempt, 16));
  return Math.round(random() * ceiling);
}
