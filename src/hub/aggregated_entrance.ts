/**
 * The aggregated entrance's running parts: following the host's front-proxy settings (their CA
 * goes to the public listener, which then asks clients for a certificate), and keeping the
 * APIService's caBundle set to the hub CA (the chart cannot know it: the hub makes its CA).
 */
import { KubeApiError, type KubeClient } from "../kube/mod.ts";
import type { Logger } from "../log/mod.ts";
import type { IssuedCertificate } from "../pki/mod.ts";
import { followRequestHeaderConfig, FrontProxyAuthenticator } from "./front_proxy.ts";
import type { ResolvedHubOptions } from "./hub_options.ts";
import { PublicTls } from "./public_tls.ts";

/**
 * The public listener's TLS and, with --aggregated-api, the entrance that hands it the host's
 * front-proxy CA.
 */
export function publicEntrance(
  client: KubeClient,
  options: Pick<ResolvedHubOptions, "aggregatedApi">,
  { serving, hubCaPem, logger }: {
    serving: IssuedCertificate;
    /** The hub CA set of now (a CA rollover changes it; the caBundle follows). */
    hubCaPem: () => string;
    logger: Logger;
  },
): { publicTls: PublicTls; aggregated: AggregatedEntrance | undefined } {
  const publicTls = new PublicTls(serving, options.aggregatedApi !== undefined);
  const aggregated = options.aggregatedApi && startAggregatedEntrance(client, {
    apiService: options.aggregatedApi.apiService,
    hubCaPem,
    onCa: (caPem) => publicTls.setFrontProxyCa(caPem),
    logger,
  });
  return { publicTls, aggregated };
}

/** The running entrance. */
export interface AggregatedEntrance {
  authenticator: FrontProxyAuthenticator;
  stop(): Promise<void>;
}

/** How often the APIService's caBundle is checked (someone may reset it: a GitOps sync, say). */
const API_SERVICE_SYNC_MS = 30_000;

/**
 * Starts following the front-proxy settings (`onCa` receives each new CA bundle) and keeping the
 * APIService's caBundle.
 */
export function startAggregatedEntrance(
  client: KubeClient,
  options: {
    apiService: string;
    hubCaPem: () => string;
    onCa: (caPem: string) => void;
    logger: Logger;
  },
): AggregatedEntrance {
  const { logger } = options;
  const authenticator = new FrontProxyAuthenticator();
  const stopping = new AbortController();
  const following = followRequestHeaderConfig(client, {
    onConfig: (config) => {
      // The listener first, so that the certificate of a new front proxy verifies at once.
      options.onCa(config.caPem);
      authenticator.update(config);
    },
    logger,
    signal: stopping.signal,
  });
  let lastSync = "";
  const sync = async () => {
    const outcome = await setApiServiceCaBundle(client, options.apiService, options.hubCaPem())
      .catch((error) => `failed: ${(error as Error).message}`);
    if (outcome === lastSync) return;
    const log = outcome.startsWith("failed") ? logger.warn : logger.info;
    log.call(logger, "APIService caBundle", { apiService: options.apiService, outcome });
    lastSync = outcome;
  };
  const syncing = options.apiService ? setInterval(sync, API_SERVICE_SYNC_MS) : undefined;
  if (options.apiService) void sync();
  return {
    authenticator,
    async stop() {
      clearInterval(syncing);
      stopping.abort();
      await following;
    },
  };
}

/**
 * Puts the hub CA into the APIService's caBundle; "missing" when it does not exist (the chart
 * creates it; without it the entrance is simply not registered).
 */
export async function setApiServiceCaBundle(
  client: KubeClient,
  name: string,
  caPem: string,
): Promise<"set" | "unchanged" | "missing"> {
  const path = `/apis/apiregistration.k8s.io/v1/apiservices/${name}`;
  const live = await client.get<{ spec?: { caBundle?: string } }>(path).catch((error) => {
    if (error instanceof KubeApiError && error.code === 404) return undefined;
    throw error;
  });
  if (!live) return "missing";
  const caBundle = btoa(caPem);
  if (live.spec?.caBundle === caBundle) return "unchanged";
  await client.patch(path, { spec: { caBundle } }, "merge");
  return "set";
}
