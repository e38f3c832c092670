/** What the steps of the request path share: the handler's deps, and one request on its way. */
import type { ProxyRequest, ProxyResponse } from "../http1/mod.ts";
import type { Logger } from "../log/mod.ts";
import { splitTarget, type Upstream } from "../forward/mod.ts";
import type { MergedReadDeps } from "./merge/_read_support.ts";
import { PositionMemory } from "./merge/position_memory.ts";
import type { OwnerIndex } from "./owner_index.ts";
import type { ProxyConfig } from "./proxy_config.ts";
import type { ProxyMetrics } from "./proxy_metrics.ts";
import { parseRequestInfo, type RequestInfo } from "./request_info.ts";

/** What the handler needs; `config` and `upstream` are read per request so reloads take effect. */
export interface ProxyHandlerDeps {
  config: () => ProxyConfig;
  upstream: (cluster: string) => Upstream | undefined;
  /** Why a configured cluster has no upstream (say, reached through a hub). */
  unavailableReason?: (cluster: string) => string | undefined;
  /** The per-pod token apps must present. */
  token: string;
  index: OwnerIndex;
  metrics: ProxyMetrics;
  logger: Logger;
  /** Largest request body read for routing; bigger bodies get 413. */
  maxBodyBytes: number;
  /** Aborted when the proxy stops: watches and followed logs end cleanly at their next event. */
  stopping?: AbortSignal;
}

/** The deps, and what the handler builds once for all requests. */
export interface ProxyContext extends ProxyHandlerDeps {
  /** The Authorization header the pod's apps send. */
  authorization: string;
  /** Merged reads share one memory of the positions behind the versions their watches issued. */
  merged: MergedReadDeps;
}

/** The context of a new handler. */
export function createProxyContext(deps: ProxyHandlerDeps): ProxyContext {
  return {
    ...deps,
    authorization: `Bearer ${deps.token}`,
    merged: { upstream: deps.upstream, logger: deps.logger, positions: new PositionMemory() },
  };
}

/** One request on its way through the steps. */
export interface ProxiedRequest {
  req: ProxyRequest;
  res: ProxyResponse;
  url: ReturnType<typeof splitTarget>;
  info: RequestInfo;
  /** When it arrived (performance.now()), for the upstream latency. */
  started: number;
}

/** The request as the steps read it: its target split, and what it asks the API for. */
export function proxiedRequest(req: ProxyRequest, res: ProxyResponse): ProxiedRequest {
  const started = performance.now();
  const url = splitTarget(req.url ?? "/");
  const info = parseRequestInfo(req.method ?? "GET", url.pathname, url.search);
  return { req, res, url, info, started };
}

/** Counts a request in the proxy's metrics, by cluster ("" when none), verb and code. */
export function countRequest(
  context: ProxyContext,
  request: ProxiedRequest,
  cluster: string,
  code: number,
): void {
  context.metrics.requests.inc({ cluster, verb: String(request.info.verb), code: String(code) });
}
