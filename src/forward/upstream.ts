/**
 * One target cluster as the proxy reaches it: kept-alive HTTP/1.1 connections on node:tls with
 * the cluster's credentials, and raw bytes both ways. Not fetch: Deno's fetch always decodes
 * gzip, and the proxy must pass content encodings through untouched; node:tls also gives
 * tls-server-name and an explicit insecure-skip-tls-verify. Not node:https for requests: its
 * HTTP client cost more CPU than the TLS under it (bench/stacks); upgrades still use it.
 */
import http, { type IncomingHttpHeaders, type IncomingMessage } from "node:http";
import https from "node:https";
import net, { isIP } from "node:net";
import type { Duplex, Readable } from "node:stream";
import tls from "node:tls";
import { encodeRequestHead, Http1Pool } from "../http1/mod.ts";
import { pathUnderPrefix, RequestTargetError } from "../request_target.ts";
import {
  type ClientConfig,
  clientPair,
  createCredentialProvider,
  createKubeTransport,
  type CredentialProvider,
  type Credentials,
  impersonationHeaders,
  type KubeTransport,
} from "../kube/mod.ts";
import type { Logger } from "../log/mod.ts";
import { silentLogger } from "../log/mod.ts";

/** A request to send upstream; the path includes the query. */
export interface UpstreamRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[]>;
  body?: Uint8Array;
  /** Aborting destroys the request and its response stream. */
  signal?: AbortSignal;
}

/** An upstream's answer: its status and headers, and its body as a stream. */
export type UpstreamResponse = Readable & {
  readonly statusCode?: number | undefined;
  readonly statusMessage?: string | undefined;
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: string[];
};

/** A cluster the proxy forwards to. */
export interface Upstream {
  readonly name: string;
  /** The response, once its headers arrived (or a timeout/connection error). */
  request(request: UpstreamRequest): Promise<UpstreamResponse>;
  /** An upgraded connection (exec, attach, port-forward), once the upstream switched protocols. */
  upgrade(request: UpstreamRequest): Promise<UpgradeResult>;
  /**
   * A GET whose whole answer the proxy consumes itself (merged lists): through fetch, whose
   * TLS and body reading run outside JavaScript, with the same credentials.
   */
  read(
    path: string,
    headers: Record<string, string>,
  ): Promise<{ status: number; body: Uint8Array; contentType: string }>;
  close(): void;
}

/** The upstream's answer to an upgrade: 101 with a socket, or an ordinary response (an error). */
export type UpgradeResult =
  | { upgraded: true; response: IncomingMessage; socket: Duplex; head: Uint8Array }
  | { upgraded: false; response: IncomingMessage };

/** An upstream that cannot be reached or did not answer in time: becomes a 503 Status. */
export class UpstreamUnavailableError extends Error {
  constructor(readonly cluster: string, detail: string) {
    super(`Cluster "${cluster}" is unreachable: ${detail}`);
    this.name = "UpstreamUnavailableError";
  }
}

/** The status for an error of an upstream request: 400 for a refused target, 503 unreachable. */
export function upstreamErrorCode(error: unknown): 400 | 500 | 503 {
  if (error instanceof RequestTargetError) return 400;
  return error instanceof UpstreamUnavailableError ? 503 : 500;
}

/** Options of createUpstream. */
export interface UpstreamOptions {
  logger?: Logger;
  /** Replaces the provider the config implies. */
  credentials?: CredentialProvider;
  /** Longest wait for response headers (or a connection); default 10 s. */
  timeoutMs?: number;
}

/** Creates an upstream for a resolved client configuration. */
export function createUpstream(
  name: string,
  config: ClientConfig,
  options: UpstreamOptions = {},
): Upstream {
  const logger = options.logger ?? silentLogger;
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
  const base = new URL(config.server);
  const secure = base.protocol === "https:";
  const prefix = base.pathname.replace(/\/+$/, "");
  const timeoutMs = options.timeoutMs ?? 10_000;
  const pools = new Map<string, Http1Pool>();
  let transport: KubeTransport | undefined;
  const hostname = base.hostname.replace(/^\[|\]$/g, "");
  const port = Number(base.port || (secure ? 443 : 80));

  /** The pool for a set of credentials; a new client certificate replaces the old pool. */
  const poolFor = (used: Credentials): Http1Pool => {
    const pair = clientPair(config, used);
    const key = pair.certPem ?? "";
    let pool = pools.get(key);
    if (!pool) {
      for (const old of pools.values()) old.close();
      pools.clear();
      pool = new Http1Pool(() =>
        secure
          ? tls.connect({
            host: hostname,
            port,
            ...(config.tls.caPem ? { ca: config.tls.caPem } : {}),
            ...(pair.certPem && pair.keyPem ? { cert: pair.certPem, key: pair.keyPem } : {}),
            // SNI carries names, not addresses (RFC 6066 §3).
            ...(config.tls.serverName
              ? { servername: config.tls.serverName }
              : isIP(hostname)
              ? {}
              : { servername: hostname }),
            ALPNProtocols: ["http/1.1"],
            // Only ever false from an explicit insecure-skip-tls-verify in the user's kubeconfig.
            rejectUnauthorized: !config.tls.insecureSkipVerify,
          })
          : net.connect({ host: hostname, port })
      );
      pools.set(key, pool);
    }
    return pool;
  };

  /** The headers sent upstream: the caller's, the cluster's impersonation, its credentials. */
  const outgoingHeaders = async (request: UpstreamRequest) => {
    const used = await credentials.get();
    // The handler passes lowercase names with the caller's Authorization and Impersonate-* removed.
    const outgoing: Record<string, string | string[]> = {
      ...request.headers,
      ...impersonationHeaders(config.impersonate),
    };
    if (used.authorization) outgoing.authorization = used.authorization;
    if (request.body) outgoing["content-length"] = String(request.body.length);
    return { outgoing, used };
  };

  const open = async (request: UpstreamRequest) => {
    const { outgoing, used } = await outgoingHeaders(request);
    const module = secure ? https : http;
    const req = module.request({
      protocol: base.protocol,
      hostname,
      port,
      method: request.method,
      path: pathUnderPrefix(prefix, request.path),
      headers: outgoing,
      // Upgraded sockets leave any pool: a dedicated connection.
      agent: false,
      ...(secure ? upgradeTls(config, used) : {}),
    });
    return { req, used };
  };

  /** Sends a request on a pooled connection; resolves once the answer's head is in. */
  const exchange = async (request: UpstreamRequest) => {
    const { outgoing, used } = await outgoingHeaders(request);
    const head = encodeRequestHead(
      request.method,
      pathUnderPrefix(prefix, request.path),
      base.host,
      outgoing,
    );
    try {
      const response = await poolFor(used).send(
        { method: request.method, head, ...(request.body ? { body: request.body } : {}) },
        { timeoutMs, ...(request.signal ? { signal: request.signal } : {}) },
      );
      return { result: response as UpstreamResponse, used };
    } catch (error) {
      if (request.signal?.aborted) {
        throw new DOMException("The client went away", "AbortError");
      }
      throw new UpstreamUnavailableError(name, (error as Error).message);
    }
  };

  /**
   * Settles when the response headers arrive, or rejects at the timeout or when the caller
   * goes away. The rejection does not wait for the request's own "error" event: a request
   * destroyed before its TLS handshake finished was seen to never emit one (Deno 2.9).
   */
  const withTimeout = <T>(
    req: http.ClientRequest,
    signal: AbortSignal | undefined,
    work: Promise<T>,
  ): Promise<T> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stopped = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new UpstreamUnavailableError(
          name,
          `no response within ${timeoutMs / 1000} s`,
        );
        req.destroy(error);
        reject(error);
      }, timeoutMs);
      signal?.addEventListener("abort", () => {
        const error = new DOMException("The client went away", "AbortError");
        req.destroy(error);
        reject(error);
      }, { once: true });
    });
    // After the headers, an abort still destroys the request (and with it a streaming response);
    // its rejection then has nobody waiting.
    stopped.catch(() => {});
    return Promise.race([work, stopped]).finally(() => clearTimeout(timer));
  };

  return {
    name,
    async request(request) {
      const first = await exchange(request);
      if (first.result.statusCode !== 401) return first.result;
      // A rotated token (a projected service-account token, an exec plugin's) is picked up
      // here: the request is sent once more if the provider now has other credentials. The
      // body is in memory, so resending is safe.
      credentials.invalidate(first.used);
      const next = await credentials.get();
      if (next.authorization === first.used.authorization && next.certPem === first.used.certPem) {
        return first.result;
      }
      first.result.resume();
      const second = await exchange(request);
      if (second.result.statusCode === 401) credentials.invalidate(second.used);
      return second.result;
    },
    async upgrade(request) {
      const { req } = await open(request);
      const result = withTimeout(
        req,
        request.signal,
        new Promise<UpgradeResult>((resolve, reject) => {
          req.once(
            "upgrade",
            (response, socket, head) => resolve({ upgraded: true, response, socket, head }),
          );
          req.once("response", (response) => resolve({ upgraded: false, response }));
          req.once("error", (error) => reject(new UpstreamUnavailableError(name, error.message)));
        }),
      );
      req.end();
      return await result;
    },
    async read(path, headers) {
      transport ??= createKubeTransport(config, { logger, credentials });
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), timeoutMs);
      try {
        const response = await transport.fetch(path, { headers, signal: abort.signal });
        clearTimeout(timer);
        return {
          status: response.status,
          body: new Uint8Array(await response.arrayBuffer()),
          contentType: response.headers.get("content-type") ?? "",
        };
      } catch (error) {
        throw new UpstreamUnavailableError(
          name,
          abort.signal.aborted
            ? `no response within ${timeoutMs / 1000} s`
            : (error as Error).message,
        );
      } finally {
        clearTimeout(timer);
      }
    },
    close() {
      for (const pool of pools.values()) pool.close();
      pools.clear();
      transport?.close();
    },
  };
}

function upgradeTls(config: ClientConfig, used: Credentials): https.RequestOptions {
  const pair = clientPair(config, used);
  return {
    ...(config.tls.caPem ? { ca: config.tls.caPem } : {}),
    ...(pair.certPem && pair.keyPem ? { cert: pair.certPem, key: pair.keyPem } : {}),
    ...(config.tls.serverName ? { servername: config.tls.serverName } : {}),
    rejectUnauthorized: !config.tls.insecureSkipVerify,
  };
}
