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
import { issueCertificate } from "../pki/mod.ts";
import { ensureSharedCa, type SharedCa } from "./ca_secret.ts";
import { keepWebhookConfiguration, syncWebhookConfiguration } from "./configuration_sync.ts";
import { createWebhookApp } from "./webhook_app.ts";
import { webhookConfiguration } from "./webhook_configuration.ts";
import type { ResolvedWebhookOptions } from "./webhook_options.ts";

const DAY_MS = 86_400_000;

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
    validityDays: options.caValidityMs / DAY_MS,
  };
  let shared: SharedCa = await ensureSharedCa(client, caSpec);
  let serving = await issueServing(shared, options);
  let issuedAt = Date.now();
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

  const desired = () =>
    webhookConfiguration({
      name: options.configurationName,
      namespace: options.namespace,
      endpoint: options.endpoint,
      caBundlePem: shared.bundlePem,
      failurePolicy: options.failurePolicy,
    });
  const stopping = new AbortController();
  const watching = keepWebhookConfiguration(client, desired, {
    logger,
    signal: stopping.signal,
    onSynced: () => ready = true,
  });

  // Renew before expiry: re-read the shared CA (another replica may have rotated it), publish
  // the bundle first, then switch the serving certificate.
  const renewEveryMs = Math.max(1_000, Math.min(options.certValidityMs / 3, 3_600_000));
  let renewing = Promise.resolve();
  const timer = setInterval(() => {
    renewing = renewing.then(async () => {
      const next = await ensureSharedCa(client, caSpec);
      const caChanged = next.ca.certificatePem !== shared.ca.certificatePem ||
        next.bundlePem !== shared.bundlePem;
      const age = Date.now() - issuedAt;
      if (!caChanged && age < (options.certValidityMs * 2) / 3) return;
      shared = next;
      if (caChanged) await syncWebhookConfiguration(client, desired());
      serving = await issueServing(shared, options);
      issuedAt = Date.now();
      server.setSecureContext({ cert: serving.certificatePem, key: serving.privateKeyPem });
      logger.info("serving certificate renewed", {
        notAfter: serving.certificate.notAfter.toISOString(),
        caChanged,
      });
    }).catch((error) =>
      logger.error("certificate renewal failed; retrying later", {
        error: (error as Error).message,
      })
    );
  }, renewEveryMs);

  return {
    port,
    bundlePem: () => shared.bundlePem,
    async stop() {
      clearInterval(timer);
      stopping.abort();
      await watching;
      await renewing;
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
