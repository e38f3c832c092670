/** Flags of `mca webhook` and their resolution into settings (pure). */
import { parseDuration, parseListenAddress } from "../common/mod.ts";
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
  inject: InjectOptions;
  kubeconfig?: string;
  context?: string;
  logLevel: LogLevel;
  logFormat: "json" | "text";
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** Resolves flags and environment (POD_NAMESPACE) into settings; throws on a bad value. */
export function resolveWebhookOptions(
  options: WebhookOptions,
  env: (name: string) => string | undefined = () => undefined,
): ResolvedWebhookOptions {
  const namespace = options.namespace ?? env("POD_NAMESPACE") ?? "mca-system";
  const serviceName = options.serviceName ?? "mca-webhook";
  const servicePort = Number(options.servicePort ?? 443);
  if (!Number.isInteger(servicePort) || servicePort < 1 || servicePort > 65535) {
    throw new Error(`Invalid --service-port "${options.servicePort}": must be a port number`);
  }
  const failurePolicy = options.failurePolicy ?? "Fail";
  if (failurePolicy !== "Fail" && failurePolicy !== "Ignore") {
    throw new Error(`Invalid --failure-policy "${failurePolicy}": use Fail or Ignore`);
  }
  let endpoint: WebhookEndpoint;
  let dnsNames: string[];
  let ipAddresses: string[] = [];
  if (options.url) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw new Error(`Invalid --url "${options.url}": not a URL`);
    }
    if (url.protocol !== "https:") {
      throw new Error(`Invalid --url "${options.url}": the API server calls webhooks over https`);
    }
    endpoint = { url: url.origin + url.pathname.replace(/\/+$/, "") };
    const host = url.hostname.replace(/^\[|\]$/g, "");
    const isIp = IPV4.test(host) || host.includes(":");
    dnsNames = isIp ? [] : [host];
    ipAddresses = isIp ? [host] : [];
  } else {
    endpoint = { service: { namespace, name: serviceName, port: servicePort } };
    dnsNames = [
      serviceName,
      `${serviceName}.${namespace}`,
      `${serviceName}.${namespace}.svc`,
      `${serviceName}.${namespace}.svc.cluster.local`,
    ];
  }
  const { kubeconfig, context } = options;
  return {
    listen: parseListenAddress(options.listen ?? "0.0.0.0:8443", "--listen"),
    namespace,
    configurationName: options.configurationName ?? "mca",
    caSecret: options.caSecret ?? "mca-webhook-ca",
    endpoint,
    dnsNames,
    ipAddresses,
    failurePolicy,
    certValidityMs: parseDuration(options.certValidity ?? "30d", "--cert-validity"),
    caValidityMs: parseDuration(options.caValidity ?? "3650d", "--ca-validity"),
    inject: pickInjectOptions(options),
    ...(kubeconfig ? { kubeconfig } : {}),
    ...(context ? { context } : {}),
    logLevel: options.logLevel ?? "info",
    logFormat: options.logFormat ?? "json",
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
