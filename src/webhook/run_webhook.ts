/** `mca webhook`: the edge that wires the app, certificates, registration and the TLS listener together. */
import https from "node:https";
import type { AddressInfo } from "node:net";
import { createAdaptorServer } from "@hono/node-server";
import {
  createKubeClient,
  createKubeTransport,
  type KubeClient,
  loadClientConfigOrInCluster,
} from "../kube/mod.ts";
import { createLogger, type Logger } from "../log/mod.ts";
import { createMetricsRegistry } from "../metrics/mod.ts";
import { DAY_MS, issueCertificate, startCertificateRenewal } from "../pki/mod.ts";
import { ensureSharedCa, type SharedCa } from "../common/mod.ts";
import { keepWebhookConfiguration, syncWebhookConfiguration } from "./configuration_sync.ts";
import { createWebhookApp } from "./webhook_app.ts";
import { webhookConfiguration } from "./webhook_configuration.ts";
import type { ResolvedWebhookOptions } from "./webhook_options.ts";

/** A running webhook, for tests and for the command's signal handling. */
export interface RunningWebhook {
  port: number;
  /** The CA bundle currently published. */
  bundlePem(): string;
  stop(): Promise<void>;
}

/** Starts the webhook; resolves once it listens (readiness follows the first successful registration). */
export async function runWebhook(
  options: ResolvedWebhookOptions,
  deps: { logger?: Logger; client?: KubeClient } = {},
): Promise<RunningWebhook> {
  const logger = deps.logger ??
    createLogger({ level: options.logLevel, format: options.logFormat });
  const client = deps.client ??
    createKubeClient(createKubeTransport(await loadClientConfigOrInCluster(options), { logger }));
  const caSpec = {
    namespace: options.namespace,
    name: options.caSecret,
    commonName: "mca-webhook-ca",
    validityDays: options.caValidityMs / DAY_MS,
  };
  let shared: SharedCa = await ensureSharedCa(client, caSpec);
  let serving = await issueServing(shared, options);
  let caChanged = false;
  let ready = false;
  const metrics = createMetricsRegistry();
  const app = createWebhookApp({ inject: options.inject, logger, metrics, isReady: () => ready });
  const server = createAdaptorServer({
    fetch: app.fetch,
    createServer: https.createServer,
    serverOptions: { cert: serving.certificatePem, key: serving.privateKeyPem },
  }) as https.Server;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.listen.port, options.listen.hostname, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  logger.info("webhook listening", {
    address: `${options.listen.hostname}:${port}`,
    namespace: options.namespace,
  });

  const desired = (caBundlePem = shared.bundlePem) =>
    webhookConfiguration({
      name: options.configurationName,
      namespace: options.namespace,
      endpoint: options.endpoint,
      caBundlePem,
      failurePolicy: options.failurePolicy,
    });
  const stopping = new AbortController();
  const watching = keepWebhookConfiguration(client, desired, {
    logger,
    signal: stopping.signal,
    onSynced: () => ready = true,
  });

  // Renew before expiry. Each check re-reads the shared CA (another replica may have rotated
  // it): a new CA is published in the bundle first, then served from.
  const renewal = startCertificateRenewal({
    validityMs: options.certValidityMs,
    notAfter: serving.certificate.notAfter,
    mustRenew: async () => {
      const next = await ensureSharedCa(client, caSpec);
      if (
        next.ca.certificatePem === shared.ca.certificatePem && next.bundlePem === shared.bundlePem
      ) return false;
      await syncWebhookConfiguration(client, desired(next.bundlePem));
      shared = next;
      caChanged = true;
      return true;
    },
    renew: async () => {
      serving = await issueServing(shared, options);
      server.setSecureContext({ cert: serving.certificatePem, key: serving.privateKeyPem });
      const fields = { caChanged };
      caChanged = false;
      return { notAfter: serving.certificate.notAfter, fields };
    },
    logger,
  });

  return {
    port,
    bundlePem: () => shared.bundlePem,
    async stop() {
      stopping.abort();
      await renewal.stop();
      await watching;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      client.transport.close();
    },
  };
}

async function issueServing(shared: SharedCa, options: ResolvedWebhookOptions) {
  return await issueCertificate(shared.ca, {
    commonName: options.dnsNames[0] ?? options.ipAddresses[0] ?? "mca-webhook",
    dnsNames: options.dnsNames,
    ipAddresses: options.ipAddresses,
    validityDays: options.certValidityMs / DAY_MS,
  });
}
