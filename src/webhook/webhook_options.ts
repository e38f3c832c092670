/** Flags of `mca webhook` and their resolution into settings (pure). */
// Leaves, not common/mod.ts: main.ts imports this file for every command (see WEBHOOK_DEFAULTS).
import { parseDuration, parseDurationOrZero } from "../common/duration.ts";
import { parseListenAddress } from "../common/listen_address.ts";
import type { InjectOptions } from "../inject/mod.ts";
import type { LogLevel } from "../log/mod.ts";
import type { WebhookEndpoint } from "./webhook_configuration.ts";

/** What the user may pass; everything optional. */
export interface WebhookOptions extends Omit<InjectOptions, "logLevel"> {
  /** The sidecar's log level (`--log-level` is the webhook's own). */
  proxyLogLevel?: InjectOptions["logLevel"];
  listen?: string;
  namespace?: string;
  serviceName?: string;
  servicePort?: string;
  configurationName?: string;
  caSecret?: string;
  url?: string;
  failurePolicy?: string;
  certValidity?: string;
  caValidity?: string;
  shutdownDelay?: string;
  kubeconfig?: string;
  context?: string;
  logLevel?: LogLevel;
  logFormat?: "json" | "text";
}

/** Every setting decided. */
export interface ResolvedWebhookOptions {
  listen: { hostname: string; port: number };
  namespace: string;
  configurationName: string;
  caSecret: string;
  endpoint: WebhookEndpoint;
  /** Names and addresses the serving certificate must cover. */
  dnsNames: string[];
  ipAddresses: string[];
  failurePolicy: "Fail" | "Ignore";
  certValidityMs: number;
  caValidityMs: number;
  /** After SIGTERM, how long the webhook keeps answering while endpoints drop it. */
  shutdownDelayMs: number;
  inject: InjectOptions;
  kubeconfig?: string;
  context?: string;
  logLevel: LogLevel;
  logFormat: "json" | "text";
}

/** The flags' defaults, also declared to commander by main.ts (so `--help` shows them). */
export const WEBHOOK_DEFAULTS = {
  listen: "0.0.0.0:8443",
  /** When $POD_NAMESPACE is not set. */
  namespace: "mca-system",
  serviceName: "mca-webhook",
  servicePort: "443",
  configurationName: "mca",
  caSecret: "mca-webhook-ca",
  failurePolicy: "Fail",
  certValidity: "30d",
  caValidity: "3650d",
  shutdownDelay: "0s",
  logLevel: "info",
  logFormat: "json",
} as const satisfies WebhookOptions;

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** Resolves flags and environment (POD_NAMESPACE) into settings; throws on a bad value. */
export function resolveWebhookOptions(
  options: WebhookOptions,
  env: (name: string) => string | undefined = () => undefined,
): ResolvedWebhookOptions {
  const namespace = options.namespace ?? env("POD_NAMESPACE") ?? WEBHOOK_DEFAULTS.namespace;
  const service = serviceEndpoint(options, namespace);
  const failurePolicy = options.failurePolicy ?? WEBHOOK_DEFAULTS.failurePolicy;
  if (failurePolicy !== "Fail" && failurePolicy !== "Ignore") {
    throw new Error(`Invalid --failure-policy "${failurePolicy}": use Fail or Ignore`);
  }
  const endpoint = options.url ? urlEndpoint(options.url) : service;
  const { kubeconfig, context } = options;
  return {
    listen: parseListenAddress(options.listen ?? WEBHOOK_DEFAULTS.listen, "--listen"),
    namespace,
    configurationName: options.configurationName ?? WEBHOOK_DEFAULTS.configurationName,
    caSecret: options.caSecret ?? WEBHOOK_DEFAULTS.caSecret,
    ...endpoint,
    failurePolicy,
    certValidityMs: parseDuration(
      options.certValidity ?? WEBHOOK_DEFAULTS.certValidity,
      "--cert-validity",
    ),
    caValidityMs: parseDuration(options.caValidity ?? WEBHOOK_DEFAULTS.caValidity, "--ca-validity"),
    shutdownDelayMs: parseDurationOrZero(
      options.shutdownDelay ?? WEBHOOK_DEFAULTS.shutdownDelay,
      "--shutdown-delay",
    ),
    inject: pickInjectOptions(options),
    ...(kubeconfig ? { kubeconfig } : {}),
    ...(context ? { context } : {}),
    logLevel: options.logLevel ?? WEBHOOK_DEFAULTS.logLevel,
    logFormat: options.logFormat ?? WEBHOOK_DEFAULTS.logFormat,
  };
}

/** Where the API server calls the webhook, and the names its serving certificate covers. */
type EndpointSettings = Pick<ResolvedWebhookOptions, "endpoint" | "dnsNames" | "ipAddresses">;

/** Development: the API server calls a URL (--url), named by its host. */
function urlEndpoint(text: string): EndpointSettings {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`Invalid --url "${text}": not a URL`);
  }
  if (url.protocol !== "https:") {
    throw new Error(`Invalid --url "${text}": the API server calls webhooks over https`);
  }
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const isIp = IPV4.test(host) || host.includes(":");
  return {
    endpoint: { url: url.origin + url.pathname.replace(/\/+$/, "") },
    dnsNames: isIp ? [] : [host],
    ipAddresses: isIp ? [host] : [],
  };
}

/** In a cluster: the API server calls the webhook's Service, by its DNS names. */
function serviceEndpoint(options: WebhookOptions, namespace: string): EndpointSettings {
  const serviceName = options.serviceName ?? WEBHOOK_DEFAULTS.serviceName;
  const servicePort = Number(options.servicePort ?? WEBHOOK_DEFAULTS.servicePort);
  if (!Number.isInteger(servicePort) || servicePort < 1 || servicePort > 65535) {
    throw new Error(`Invalid --service-port "${options.servicePort}": must be a port number`);
  }
  return {
    endpoint: { service: { namespace, name: serviceName, port: servicePort } },
    dnsNames: [
      serviceName,
      `${serviceName}.${namespace}`,
      `${serviceName}.${namespace}.svc`,
      `${serviceName}.${namespace}.svc.cluster.local`,
    ],
    ipAddresses: [],
  };
}
function pickInjectOptions(options: WebhookOptions): InjectOptions {
  const keys = [
    "image",
    "imagePullPolicy",
    "configName",
    "cpuRequest",
    "memoryRequest",
    "cpuLimit",
    "memoryLimit",
  ] as const;
  const picked = Object.fromEntries(
    keys.filter((key) => options[key] !== undefined).map((key) => [key, options[key]]),
  );
  return { ...picked, ...(options.proxyLogLevel ? { logLevel: options.proxyLogLevel } : {}) };
}
