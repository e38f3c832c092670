/**
 * The aggregated entrance's running parts: following the host's front-proxy settings (their CA
 * goes to the public listener, which then asks clients for a certificate), and keeping the
 * APIService's caBundle set to the hub CA (the chart cannot know it: the hub makes its CA).
 */
import { KubeApiError, type KubeClient } from "../kube/mod.ts";
import type { Logger } from "../log/mod.ts";
import { followRequestHeaderConfig, FrontProxyAuthenticator } from "./front_proxy.ts";

/** The running entrance. */
export interface AggregatedEntrance {
  authenticator: FrontProxyAuthenticator;
  /** Sets the APIService's caBundle when it differs (run at start and with the heartbeat). */
  syncApiService(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts following the front-proxy settings; `onCa` receives each new CA bundle. */
export function startAggregatedEntrance(
  client: KubeClient,
  options: { apiService: string; hubCaPem: string; onCa: (caPem: string) => void; logger: Logger },
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
  return {
    authenticator,
    async syncApiService() {
      if (!options.apiService) return;
      const outcome = await setApiServiceCaBundle(client, options.apiService, options.hubCaPem)
        .catch((error) => `failed: ${(error as Error).message}`);
      if (outcome !== lastSync) {
        const log = outcome.startsWith("failed") ? logger.warn : logger.info;
        log.call(logger, "APIService caBundle", { apiService: options.apiService, outcome });
        lastSync = outcome;
      }
    },
    async stop() {
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
