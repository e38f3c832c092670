/**
 * One target server as the sidecar, the agent or a hub replica reaches it: kept-alive HTTP/1.1
 * connections on node:tls with the target's credentials, and raw bytes both ways. Not fetch: Deno's fetch always decodes
 * gzip, and the proxy must pass content encodings through untouched; node:tls also gives
 * tls-server-name and an explicit insecure-skip-tls-verify. Not node:https for requests: its
 * HTTP client cost more CPU than the TLS under it (bench/stacks); upgrades still use it.
 */
import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import net, { isIP } from "node:net";
import type { Duplex, Readable } from "node:stream";
import tls from "node:tls";
import { encodeRequestHead, Http1Pool } from "../http1/mod.ts";
import { pathUnderPrefix } from "../request_target.ts";
import { UpstreamUnavailableError } from "./upstream_error.ts";
import { sendUpgrade } from "./upstream_upgrade.ts";
import { clientPair, type Credentials } from "../kube/mod.ts";
import type { UpstreamTarget, WholeReader } from "./upstream_target.ts";

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
    headers: Record<string, string | string[]>,
  ): Promise<{ status: number; body: Uint8Array; contentType: string }>;
  close(): void;
}

/** The upstream's answer to an upgrade: 101 with a socket, or an ordinary response (an error). */
export type UpgradeResult =
  | { upgraded: true; response: IncomingMessage; socket: Duplex; head: Uint8Array }
  | { upgraded: false; response: IncomingMessage };

/** Options of createTargetUpstream. */
export interface TargetUpstreamOptions {
  /** Longest wait for response headers (or a connection); default 10 s. */
  timeoutMs?: number;
}

/** An upstream's fixed facts and its connections. */
export interface UpstreamState {
  name: string;
  target: UpstreamTarget;
  base: URL;
  secure: boolean;
  /** The server URL's path, prefixed to every request path. */
  prefix: string;
  hostname: string;
  port: number;
  timeoutMs: number;
  /** One pool per client certificate in use. */
  pools: Map<string, Http1Pool>;
  reader?: WholeReader;
}

/** Creates an upstream for a target. */
export function createTargetUpstream(
  name: string,
  target: UpstreamTarget,
  options: TargetUpstreamOptions = {},
): Upstream {
  const base = new URL(target.server);
  const secure = base.protocol === "https:";
  const state: UpstreamState = {
    name,
    target,
    base,
    secure,
    prefix: base.pathname.replace(/\/+$/, ""),
    hostname: base.hostname.replace(/^\[|\]$/g, ""),
    port: Number(base.port || (secure ? 443 : 80)),
    timeoutMs: options.timeoutMs ?? 10_000,
    pools: new Map(),
  };
  return {
    name,
    request: (request) => requestRetryingOn401(state, request),
    upgrade: async (request) => sendUpgrade(state, request, await outgoingHeaders(state, request)),
    read: (path, headers) => readWhole(state, path, headers),
    close() {
      for (const pool of state.pools.values()) pool.close();
      state.pools.clear();
      state.reader?.close();
    },
  };
}

/**
 * Sends a request; a rotated token (a projected service-account token, an exec plugin's) is
 * picked up here: after a 401 the request is sent once more if the provider now has other
 * credentials. The body is in memory, so resending is safe.
 */
async function requestRetryingOn401(
  state: UpstreamState,
  request: UpstreamRequest,
): Promise<UpstreamResponse> {
  const { credentials } = state.target;
  const first = await exchange(state, request);
  if (first.result.statusCode !== 401) return first.result;
  credentials.invalidate(first.used);
  const next = await credentials.get();
  if (next.authorization === first.used.authorization && next.certPem === first.used.certPem) {
    return first.result;
  }
  first.result.resume();
  const second = await exchange(state, request);
  if (second.result.statusCode === 401) credentials.invalidate(second.used);
  return second.result;
}

/** The headers sent upstream: the caller's, the target's fixed ones, its credentials. */
async function outgoingHeaders(state: UpstreamState, request: UpstreamRequest) {
  const used = await state.target.credentials.get();
  // The handler passes lowercase names with the caller's Authorization removed.
  const outgoing: Record<string, string | string[]> = {
    ...callerHeaders(state.target, request.headers),
    ...state.target.headers,
  };
  if (used.authorization) outgoing.authorization = used.authorization;
  if (request.body) outgoing["content-length"] = String(request.body.length);
  return { outgoing, used };
}

/** The caller's headers this target receives: `Impersonate-*` only where the target passes them. */
function callerHeaders(
  target: UpstreamTarget,
  headers: Record<string, string | string[]>,
): Record<string, string | string[]> {
  if (target.passImpersonation) return headers;
  return Object.fromEntries(
    Object.entries(headers).filter(([name]) => !name.toLowerCase().startsWith("impersonate-")),
  );
}

/**
 * Headers for fetch, which joins repeated values into one line: a repeated `Impersonate-*`
 * header (several groups) would arrive as one value, so it is refused instead.
 */
function fetchHeaders(state: UpstreamState, headers: Record<string, string | string[]>): Headers {
  const result = new Headers();
  for (const [name, value] of Object.entries(callerHeaders(state.target, headers))) {
    if (Array.isArray(value) && value.length > 1 && name.startsWith("impersonate-")) {
      throw new Error(
        `a merged read cannot carry several "${name}" headers; send one request per cluster`,
      );
    }
    result.set(name, Array.isArray(value) ? value.join(", ") : value);
  }
  return result;
}

/** Sends a request on a pooled connection; resolves once the answer's head is in. */
async function exchange(state: UpstreamState, request: UpstreamRequest) {
  const { outgoing, used } = await outgoingHeaders(state, request);
  const head = encodeRequestHead(
    request.method,
    pathUnderPrefix(state.prefix, request.path),
    state.base.host,
    outgoing,
  );
  try {
    const response = await poolFor(state, used).send(
      { method: request.method, head, ...(request.body ? { body: request.body } : {}) },
      { timeoutMs: state.timeoutMs, ...(request.signal ? { signal: request.signal } : {}) },
    );
    return { result: response as UpstreamResponse, used };
  } catch (error) {
    if (request.signal?.aborted) {
      throw new DOMException("The client went away", "AbortError");
    }
    throw new UpstreamUnavailableError(state.name, (error as Error).message);
  }
}

/** The pool for a set of credentials; a new client certificate replaces the old pool. */
function poolFor(state: UpstreamState, used: Credentials): Http1Pool {
  const { tls: settings } = state.target;
  const pair = clientPair(state.target, used);
  const key = pair.certPem ?? "";
  let pool = state.pools.get(key);
  if (pool) return pool;
  for (const old of state.pools.values()) old.close();
  state.pools.clear();
  const { hostname, port } = state;
  pool = new Http1Pool(() =>
    state.secure
      ? tls.connect({
        host: hostname,
        port,
        ...(settings.caPem ? { ca: settings.caPem } : {}),
        ...(pair.certPem && pair.keyPem ? { cert: pair.certPem, key: pair.keyPem } : {}),
        // SNI carries names, not addresses (RFC 6066 §3).
        ...(settings.serverName
          ? { servername: settings.serverName }
          : isIP(hostname)
          ? {}
          : { servername: hostname }),
        ALPNProtocols: ["http/1.1"],
        // Only ever false from an explicit insecure-skip-tls-verify in the user's kubeconfig.
        rejectUnauthorized: !settings.insecureSkipVerify,
      })
      : net.connect({ host: hostname, port })
  );
  state.pools.set(key, pool);
  return pool;
}

/** A GET whose whole answer is read, through the target's fetch. */
async function readWhole(
  state: UpstreamState,
  path: string,
  callerHeaders: Record<string, string | string[]>,
): Promise<{ status: number; body: Uint8Array; contentType: string }> {
  if (!state.target.openReader) {
    throw new UpstreamUnavailableError(state.name, "it serves no whole reads");
  }
  const headers = fetchHeaders(state, callerHeaders);
  state.reader ??= state.target.openReader();
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), state.timeoutMs);
  try {
    const response = await state.reader.fetch(path, { headers, signal: abort.signal });
    clearTimeout(timer);
    return {
      status: response.status,
      body: new Uint8Array(await response.arrayBuffer()),
      contentType: response.headers.get("content-type") ?? "",
    };
  } catch (error) {
    throw new UpstreamUnavailableError(
      state.name,
      abort.signal.aborted
        ? `no response within ${state.timeoutMs / 1000} s`
        : (error as Error).message,
    );
  } finally {
    clearTimeout(timer);
  }
}
