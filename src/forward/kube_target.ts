/**
 * The upstream of a kube ClientConfig: its server, TLS, credentials (exec plugins, token files)
 * and configured impersonation become an UpstreamTarget. The adapter lives here, not in kube/:
 * kube/ knows nothing of forwarding, and the target type is checked where it is defined.
 */
import {
  type ClientConfig,
  createCredentialProvider,
  createKubeTransport,
  type CredentialProvider,
  impersonationHeaders,
} from "../kube/mod.ts";
import type { Logger } from "../log/mod.ts";
import { silentLogger } from "../log/mod.ts";
import { createTargetUpstream, type Upstream } from "./upstream.ts";
import type { UpstreamTarget } from "./upstream_target.ts";

/** Options of createUpstream. */
export interface UpstreamOptions {
  logger?: Logger;
  /** Replaces the provider the config implies. */
  credentials?: CredentialProvider;
  /** Longest wait for response headers (or a connection); default 10 s. */
  timeoutMs?: number;
  /** Pass the caller's `Impersonate-*` headers on (default: drop them). */
  passImpersonation?: boolean;
}

/** Creates an upstream for a resolved client configuration. */
export function createUpstream(
  name: string,
  config: ClientConfig,
  options: UpstreamOptions = {},
): Upstream {
  const target = kubeUpstreamTarget(name, config, options);
  return createTargetUpstream(
    name,
    target,
    options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs },
  );
}

/** The target a ClientConfig names; refuses a proxy-url, warns when TLS is not verified. */
export function kubeUpstreamTarget(
  name: string,
  config: ClientConfig,
  options: Pick<UpstreamOptions, "logger" | "credentials" | "passImpersonation"> = {},
): UpstreamTarget {
  const logger = options.logger ?? silentLogger;
  if (options.passImpersonation && config.impersonate) {
    // The caller's Impersonate-Group next to the configured user would act as a mix of both.
    throw new Error(
      `Cluster "${name}" (${config.source}): a cluster that passes the app's impersonation cannot also impersonate (as, as-groups) in its kubeconfig`,
    );
  }
  if (config.proxyUrl) {
    throw new Error(
      `Cluster "${name}" (${config.source}): proxy-url is not supported by mca proxy yet`,
    );
  }
  if (config.tls.insecureSkipVerify) {
    logger.warn("TLS verification is switched off by insecure-skip-tls-verify", {
      cluster: name,
      source: config.source,
    });
  }
  const credentials = options.credentials ?? createCredentialProvider(config, { logger });
  return {
    server: config.server,
    tls: config.tls,
    credentials,
    headers: impersonationHeaders(config.impersonate),
    ...(options.passImpersonation ? { passImpersonation: true } : {}),
    // Whole reads go through fetch, whose TLS and body reading run outside JavaScript.
    openReader: () => createKubeTransport(config, { logger, credentials }),
  };
}
