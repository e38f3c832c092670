/** `mca webhook`: the edge that wires the app, certificates, registration and the TLS listener together. */
import https from "node:https";
import type { AddressInfo } from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import { createAdaptorServer } from "@hono/node-server";
import type { Hono } from "hono";
import {
  createKubeClient,
  createKubeTransport,
  type KubeClient,
  loadClientConfigOrInCluster,
} from "../kube/mod.ts";
import { createLogger, type Logger } from "../log/mod.ts";
import { createMetricsRegistry, registerProcessMetrics } from "../metrics/mod.ts";
import {
  type CertificateRenewal,
  DAY_MS,
  issueCertificate,
  type IssuedCertificate,
  startCertificateRenewal,
} from "../pki/mod.ts";
import { type CaSecretSpec, ensureSharedCa, type SharedCa } from "../common/mod.ts";
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

/** How long open requests may take to finish once the webhook stops accepting. */
const STOP_GRACE_MS = 10_000;

/** Starts the webhook; resolves once it listens (readiness follows the first successful registration). */
export async function runWebhook(
  options: ResolvedWebhookOptions,
  deps: { logger?: Logger; client?: KubeClient } = {},
): Promise<RunningWebhook> {
  const logger = deps.logger ??
    createLogger({ level: options.logLevel, format: options.logFormat });
  const client = deps.client ??
    createKubeClient(createKubeTransport(await loadClientConfigOrInCluster(options), { logger }));
  const certificates = await firstCertificates(client, options);
  let ready = false;
  let stopping = false;
  const metrics = createMetricsRegistry();
  registerProcessMetrics(metrics);
  const app = createWebhookApp({
    inject: options.inject,
    logger,
    metrics,
    isReady: () => ready && !stopping,
    isStopping: () => stopping,
  });
  const server = await listenTls(app, certificates.serving, options.listen);
  const port = (server.address() as AddressInfo).port;
  logger.info("webhook listening", {
    address: `${options.listen.hostname}:${port}`,
    namespace: options.namespace,
  });
  const desired = (caBundlePem = certificates.shared.bundlePem) =>
    webhookConfiguration({
      name: options.configurationName,
      namespace: options.namespace,
      endpoint: options.endpoint,
      caBundlePem,
      failurePolicy: options.failurePolicy,
    });
  const stopped = new AbortController();
  const watching = keepWebhookConfiguration(client, desired, {
    logger,
    signal: stopped.signal,
    onSynced: () => ready = true,
  });
  const renewal = renewServing({ client, server, certificates, desired, options, logger });
  return {
    port,
    bundlePem: () => certificates.shared.bundlePem,
    async stop() {
      // The API server calls this replica until its endpoints drop it: answering meanwhile
      // (unready, asking clients to close) keeps a rollout from failing admissions.
      stopping = true;
      if (options.shutdownDelayMs > 0) {
        logger.info("stopping: still answering while endpoints drop this replica", {
          delay: `${options.shutdownDelayMs / 1000}s`,
        });
        await delay(options.shutdownDelayMs);
      }
      stopped.abort();
      await renewal.stop();
      await watching;
      const cut = await closeGracefully(server, STOP_GRACE_MS);
      client.transport.close();
      logger.info("webhook stopped", { cut });
    },
  };
}

/**
 * Stops accepting, closes idle connections, lets open requests finish (the API server's
 * timeout for a webhook is at most 30 s; `graceMs` less) and cuts what is left. Resolves with
 * whether anything was cut.
 */
async function closeGracefully(server: https.Server, graceMs: number): Promise<boolean> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const cut = await Promise.race([
    closed.then(() => false),
    new Promise<boolean>((resolve) => timer = setTimeout(() => resolve(true), graceMs)),
  ]);
  clearTimeout(timer);
  if (cut) {
    server.closeAllConnections();
    await closed;
  }
  return cut;
}

/** The shared CA and the certificate served from it, as they change. */
interface WebhookCertificates {
  caSpec: CaSecretSpec;
  shared: SharedCa;
  serving: IssuedCertificate;
  /** Set when the CA changed since the serving certificate was last issued. */
  caChanged: boolean;
}

async function firstCertificates(
  client: KubeClient,
  options: ResolvedWebhookOptions,
): Promise<WebhookCertificates> {
  const caSpec = {
    namespace: options.namespace,
    name: options.caSecret,
    commonName: "mca-webhook-ca",
    validityDays: options.caValidityMs / DAY_MS,
  };
  const shared = await ensureSharedCa(client, caSpec);
  return { caSpec, shared, serving: await issueServing(shared, options), caChanged: false };
}

async function listenTls(
  app: Hono,
  serving: IssuedCertificate,
  listen: ResolvedWebhookOptions["listen"],
): Promise<https.Server> {
  const server = createAdaptorServer({
    fetch: app.fetch,
    createServer: https.createServer,
    serverOptions: { cert: serving.certificatePem, key: serving.privateKeyPem },
  }) as https.Server;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(listen.port, listen.hostname, () => resolve());
  });
  return server;
}

/**
 * Renews before expiry. Each check re-reads the shared CA (another replica may have rotated
 * it): a new CA is published in the bundle first, then served from.
 */
function renewServing(context: {
  client: KubeClient;
  server: https.Server;
  certificates: WebhookCertificates;
  desired: (caBundlePem: string) => Record<string, unknown>;
  options: ResolvedWebhookOptions;
  logger: Logger;
}): CertificateRenewal {
  const { client, server, certificates, options } = context;
  return startCertificateRenewal({
    validityMs: options.certValidityMs,
    notAfter: certificates.serving.certificate.notAfter,
    mustRenew: async () => {
      const next = await ensureSharedCa(client, certificates.caSpec);
      const shared = certificates.shared;
      if (
        next.ca.certificatePem === shared.ca.certificatePem && next.bundlePem === shared.bundlePem
      ) return false;
      await syncWebhookConfiguration(client, context.desired(next.bundlePem));
      certificates.shared = next;
      certificates.caChanged = true;
      return true;
    },
    renew: async () => {
      const serving = await issueServing(certificates.shared, options);
      certificates.serving = serving;
      server.setSecureContext({ cert: serving.certificatePem, key: serving.privateKeyPem });
      const fields = { caChanged: certificates.caChanged };
      certificates.caChanged = false;
      return { notAfter: serving.certificate.notAfter, fields };
    },
    logger: context.logger,
  });
}

async function issueServing(
  shared: SharedCa,
  options: ResolvedWebhookOptions,
): Promise<IssuedCertificate> {
  return await issueCertificate(shared.ca, {
    commonName: options.dnsNames[0] ?? options.ipAddresses[0] ?? "mca-webhook",
    dnsNames: options.dnsNames,
    ipAddresses: options.ipAddresses,
    validityDays: options.certValidityMs / DAY_MS,
  });
}
