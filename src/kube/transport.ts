/** Sends requests to one API server with the TLS, proxy, credentials and impersonation of a ClientConfig. */
import type { Logger } from "../log/mod.ts";
import { silentLogger } from "../log/mod.ts";
import { pathUnderPrefix } from "../request_target.ts";
import { userAgent } from "../version.ts";
import type { ClientConfig, Impersonation } from "./client_config.ts";
import {
  basicAuthorization,
  bearer,
  type CredentialProvider,
  type Credentials,
  staticCredentials,
} from "./credentials.ts";
import { execCredentialProvider, type ExecProviderOptions } from "./exec_provider.ts";
import { nodeFetch } from "./_node_fetch.ts";
import { tokenFileProvider } from "./token_file_provider.ts";

/** A connection to one API server; `fetch` takes a path (with query) below the server URL. */
export interface KubeTransport {
  readonly config: ClientConfig;
  fetch(path: string, init?: RequestInit): Promise<Response>;
  close(): void;
}

/** Options of createKubeTransport. */
export interface KubeTransportOptions {
  logger?: Logger;
  userAgent?: string;
  /** Replaces the credential provider the config implies (tests, or the proxy's own sources). */
  credentials?: CredentialProvider;
  exec?: Omit<ExecProviderOptions, "cluster">;
}

/** Builds a transport; warns once when the config switches TLS verification off. */
export function createKubeTransport(
  config: ClientConfig,
  options: KubeTransportOptions = {},
): KubeTransport {
  const logger = options.logger ?? silentLogger;
  const credentials = options.credentials ??
    createCredentialProvider(config, { logger, ...(options.exec ? { exec: options.exec } : {}) });
  const agent = options.userAgent ?? userAgent();
  const useNode = config.tls.insecureSkipVerify || config.tls.serverName !== undefined;
  if (useNode && config.proxyUrl) {
    throw new Error(
      `Cannot connect (${config.source}): proxy-url cannot be combined with tls-server-name or insecure-skip-tls-verify`,
    );
  }
  if (config.tls.insecureSkipVerify) {
    logger.warn("TLS verification is switched off by insecure-skip-tls-verify", {
      server: config.server,
      source: config.source,
    });
  }
  const clients = new HttpClientCache(config);
  const server = new URL(config.server);

  return {
    config,
    async fetch(path: string, init: RequestInit = {}): Promise<Response> {
      const used = await credentials.get();
      const headers = new Headers(init.headers);
      if (used.authorization) headers.set("Authorization", used.authorization);
      applyImpersonation(headers, config.impersonate);
      if (!headers.has("User-Agent")) headers.set("User-Agent", agent);
      if (config.disableCompression) headers.set("Accept-Encoding", "identity");
      // Checked and joined without URL resolution, which would resolve dot segments and
      // backslashes out of a server's path prefix (https://h/k8s/clusters/c-1).
      const url = new URL(server.origin + pathUnderPrefix(server.pathname, path));
      const request: RequestInit = { ...init, headers };
      const response = useNode
        ? await nodeFetch(url, request, { ...config.tls, ...clientPair(config, used) })
        : await fetch(url, { ...request, client: clients.get(used) });
      if (response.status === 401) credentials.invalidate(used);
      return response;
    },
    close(): void {
      clients.close();
    },
  };
}

/** The credential provider a config implies: static token or basic auth, token file, exec plugin, or none. */
export function createCredentialProvider(
  config: ClientConfig,
  options: { logger?: Logger; exec?: Omit<ExecProviderOptions, "cluster"> } = {},
): CredentialProvider {
  const logger = options.logger ?? silentLogger;
  const settings = config.credentials;
  switch (settings.type) {
    case "none":
      return staticCredentials({});
    case "token":
      return staticCredentials({ authorization: bearer(settings.token) });
    case "basic":
      return staticCredentials({
        authorization: basicAuthorization(settings.username, settings.password),
      });
    case "tokenFile":
      return tokenFileProvider(settings.path, {
        ...(settings.token ? { initialToken: settings.token } : {}),
        onReadError: (error) =>
          logger.warn("Cannot re-read the token file; keeping the last token", {
            path: settings.path,
            error: error.message,
          }),
      });
    case "exec":
      return execCredentialProvider(settings.exec, {
        ...options.exec,
        ...(settings.cluster ? { cluster: settings.cluster } : {}),
      });
  }
}

/** The client key pair: from the credentials (exec plugins may return one), else from the config. */
export function clientPair(
  config: Pick<ClientConfig, "tls">,
  used: Credentials,
): { certPem?: string; keyPem?: string } {
  if (used.certPem && used.keyPem) return { certPem: used.certPem, keyPem: used.keyPem };
  if (config.tls.certPem && config.tls.keyPem) {
    return { certPem: config.tls.certPem, keyPem: config.tls.keyPem };
  }
  return {};
}

/** One Deno.HttpClient per client certificate in use (exec plugins may rotate it). */
class HttpClientCache {
  #clients = new Map<string, Deno.HttpClient>();
  constructor(private readonly config: ClientConfig) {}

  get(used: Credentials): Deno.HttpClient {
    const pair = clientPair(this.config, used);
    const key = pair.certPem ?? "";
    let client = this.#clients.get(key);
    if (!client) {
      // An old certificate's client is not reused once a newer one arrives.
      this.close();
      client = Deno.createHttpClient({
        ...(this.config.tls.caPem ? { caCerts: [this.config.tls.caPem] } : {}),
        ...(pair.certPem && pair.keyPem ? { cert: pair.certPem, key: pair.keyPem } : {}),
        ...(this.config.proxyUrl ? { proxy: proxySettings(this.config.proxyUrl) } : {}),
      });
      this.#clients.set(key, client);
    }
    return client;
  }

  close(): void {
    for (const client of this.#clients.values()) client.close();
    this.#clients.clear();
  }
}

/** Deno takes proxy credentials apart from the URL; kubeconfig carries them in it. */
function proxySettings(proxyUrl: string): Deno.Proxy {
  const url = new URL(proxyUrl);
  const basicAuth = url.username
    ? { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) }
    : undefined;
  url.username = "";
  url.password = "";
  return { url: url.href, ...(basicAuth ? { basicAuth } : {}) };
}

/** The Impersonate-* headers as lowercase names with every value (for node:http, which takes arrays). */
export function impersonationHeaders(
  impersonate: Impersonation | undefined,
): Record<string, string[]> {
  if (!impersonate) return {};
  const headers: Record<string, string[]> = { "impersonate-user": [impersonate.user] };
  if (impersonate.uid) headers["impersonate-uid"] = [impersonate.uid];
  if (impersonate.groups?.length) headers["impersonate-group"] = impersonate.groups;
  for (const [key, values] of Object.entries(impersonate.extra ?? {})) {
    headers[`impersonate-extra-${encodeURIComponent(key).toLowerCase()}`] = values;
  }
  return headers;
}

/** Sets the Impersonate-* headers (https://kubernetes.io/docs/reference/access-authn-authz/authentication/#user-impersonation). */
export function applyImpersonation(headers: Headers, impersonate: Impersonation | undefined): void {
  if (!impersonate) return;
  headers.set("Impersonate-User", impersonate.user);
  if (impersonate.uid) headers.set("Impersonate-Uid", impersonate.uid);
  for (const group of impersonate.groups ?? []) headers.append("Impersonate-Group", group);
  for (const [key, values] of Object.entries(impersonate.extra ?? {})) {
    // Extra keys travel in header names, so they are percent-encoded (KEP-1013).
    for (const value of values) {
      headers.append(`Impersonate-Extra-${encodeURIComponent(key)}`, value);
    }
  }
}
