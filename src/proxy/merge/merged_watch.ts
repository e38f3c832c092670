/**
 * A merged WATCH (I/O edge): one upstream watch per cluster, their event lines merged as they
 * arrive (watch_merger.ts), and, when a degraded watch left clusters out, those clusters tried
 * again every few seconds until they join.
 */
import type { ProxyRequest, ProxyResponse } from "../../http1/mod.ts";
import { queryFlag } from "../../forward/mod.ts";
import { CLUSTER_HEADER } from "../../forward/mod.ts";
import type { UpstreamResponse } from "../../forward/mod.ts";
import {
  clusterQuery,
  failMerged,
  failureOf,
  type MergedReadDeps,
  type MergedReadOptions,
  MergeError,
  type Missing,
  readStart,
  unlessSkipped,
  upstreamHeaders,
  upstreamOf,
  warnings,
} from "./_read_support.ts";
import { LineSplitter } from "./line_splitter.ts";
import { collectionPath, type StartPosition } from "./start_position.ts";
import { WatchMerger } from "./watch_merger.ts";

/** How often a degraded merged watch asks the clusters it left out again. */
export const REJOIN_INTERVAL_MS = 5_000;

/** One cluster's open watch, and where its stream starts (undefined: known from its events). */
interface ClusterStream {
  cluster: string;
  response: UpstreamResponse;
  position: string | undefined;
}

/** What opening a cluster's watch needs. */
interface OpenOptions {
  pathname: string;
  params: URLSearchParams;
  headers: Record<string, string | string[]>;
  start: StartPosition;
  signal: AbortSignal;
}

/**
 * Serves a merged WATCH: one upstream watch per cluster, each from its part of the start
 * position; events are merged as they arrive. Any cluster's error (a 410 included) or end ends
 * the merged watch, so the client re-lists or re-watches as usual.
 */
export async function serveMergedWatch(
  req: ProxyRequest,
  res: ProxyResponse,
  pathname: string,
  params: URLSearchParams,
  options: MergedReadOptions,
  deps: MergedReadDeps,
): Promise<void> {
  const missing: Missing = new Map();
  const abort = new AbortController();
  res.once("close", () => abort.abort());
  try {
    const { headers } = upstreamHeaders(req);
    const watchList = queryFlag(params, "sendInitialEvents") === true;
    // A watch-list only bounds how old its initial state may be; a plain watch resumes.
    const scope = collectionPath(pathname);
    const start = readStart(params, deps, { scope, lowerBound: watchList });
    const merger = new WatchMerger({ watchList, scope, positions: deps.positions });
    const opening = { pathname, params, headers, start, signal: abort.signal };
    const opened = await Promise.all(
      options.clusters.map((cluster) =>
        unlessSkipped(
          cluster,
          options,
          missing,
          () => openCluster(deps, cluster, opening, watchList),
        )
      ),
    );
    const streams = opened.filter((stream) => stream !== undefined);
    if (streams.length === 0) throw new MergeError(503, "No cluster of the merged watch answered");
    for (const stream of streams) merger.join(stream.cluster, stream.position);
    const warning = warnings([], missing);
    if (warning.length > 0) res.setHeader("warning", warning);
    res.writeHead(200, {
      "content-type": String(streams[0]!.response.headers["content-type"] ?? "application/json"),
      "cache-control": "no-cache, private",
      [CLUSTER_HEADER]: streams.map((stream) => stream.cluster).join(","),
    });
    res.flushHeaders();
    const { promise: ended, resolve, reject } = Promise.withResolvers<void>();
    const relay = (stream: ClusterStream) =>
      relayEvents(stream, merger, res, deps).then(resolve, reject);
    streams.forEach(relay);
    if (missing.size > 0) {
      rejoin(missing, {
        open: (cluster) => openCluster(deps, cluster, opening, false),
        join: (stream) => {
          if (abort.signal.aborted) return void stream.response.destroy();
          merger.join(stream.cluster, stream.position);
          relay(stream);
        },
        expired: (error) => {
          res.write(JSON.stringify({ type: "ERROR", object: error.status }) + "\n");
          resolve();
        },
        signal: abort.signal,
        deps,
      }).catch(reject);
    }
    await ended;
    res.end();
  } catch (error) {
    if (abort.signal.aborted && res.destroyed) return;
    if (error instanceof MergeError && error.code === 410 && !res.headersSent) {
      return sendExpired(res, error, options.clusters);
    }
    failMerged(req, res, error, options.clusters, deps);
  } finally {
    abort.abort();
  }
}

/**
 * Opens one cluster's watch. A cluster with a known start position watches from it. Otherwise
 * it watches from its latest state (its current objects arrive as ADDED events, as from
 * kube-apiserver), and a short LIST asked first tells where that state is at least: the position
 * a client resuming from any event gets for that cluster. A watch-list's clusters tell it
 * themselves, with their own events.
 */
async function openCluster(
  deps: MergedReadDeps,
  cluster: string,
  options: OpenOptions,
  initialWatchList: boolean,
): Promise<ClusterStream> {
  const { start } = options;
  let position = start.type === "at" ? start.versions[cluster] : undefined;
  let version = position;
  if (position === undefined) {
    if (initialWatchList) version = start.type === "latest" && start.any ? "0" : undefined;
    else position = await currentVersion(deps, cluster, collectionPath(options.pathname));
  }
  const query = clusterQuery(options.params, version, { watch: "true" });
  const upstream = upstreamOf(deps, cluster);
  let response: UpstreamResponse;
  try {
    response = await upstream.request({
      method: "GET",
      path: options.pathname + query,
      headers: options.headers,
      signal: options.signal,
    });
  } catch (error) {
    throw new MergeError(503, `Cluster "${cluster}": ${(error as Error).message}`);
  }
  if (response.statusCode !== 200) {
    const chunks: Uint8Array[] = [];
    for await (const chunk of response as AsyncIterable<Uint8Array>) chunks.push(chunk);
    throw failureOf(cluster, response.statusCode ?? 502, Buffer.concat(chunks));
  }
  return { cluster, response, position };
}

/** The cluster's current resourceVersion, from a LIST of at most one object. */
async function currentVersion(
  deps: MergedReadDeps,
  cluster: string,
  pathname: string,
): Promise<string | undefined> {
  const answer = await upstreamOf(deps, cluster).read(`${pathname}?limit=1`, {
    accept: "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json",
  }).catch((error) => {
    throw new MergeError(503, `Cluster "${cluster}": ${(error as Error).message}`);
  });
  if (answer.status !== 200) throw failureOf(cluster, answer.status, answer.body);
  const list = JSON.parse(new TextDecoder().decode(answer.body));
  return list?.metadata?.resourceVersion || undefined;
}

/** Relays one cluster's events until its stream ends or sends an error. */
async function relayEvents(
  stream: ClusterStream,
  merger: WatchMerger,
  res: ProxyResponse,
  deps: MergedReadDeps,
): Promise<void> {
  const { cluster, response } = stream;
  const splitter = new LineSplitter();
  for await (const chunk of response as AsyncIterable<Uint8Array>) {
    for (const line of splitter.push(chunk)) {
      const output = merger.accept(cluster, line);
      if (output.bytes) res.write(output.bytes);
      if (output.end) {
        // A 410 here makes the client relist, as it would against one cluster.
        const status = JSON.parse(new TextDecoder().decode(line)).object ?? {};
        deps.logger.info("merged watch ended by a cluster's error", {
          cluster,
          code: status.code,
          reason: status.reason,
        });
        return;
      }
    }
  }
}

/** What rejoining clusters needs. */
interface RejoinOptions {
  open: (cluster: string) => Promise<ClusterStream>;
  join: (stream: ClusterStream) => void;
  /** A cluster's start position expired while it was away: the client must relist. */
  expired: (error: MergeError) => void;
  signal: AbortSignal;
  deps: MergedReadDeps;
}

/**
 * Asks each cluster a degraded watch left out again, every REJOIN_INTERVAL_MS (each cluster on
 * its own, so a slow one delays no other), until it joins or the watch ends: a cluster joins at
 * most REJOIN_INTERVAL_MS plus its own answer time after it is reachable again.
 */
async function rejoin(missing: Missing, options: RejoinOptions): Promise<void> {
  const { signal, deps } = options;
  const retry = async (cluster: string) => {
    while (!signal.aborted) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, REJOIN_INTERVAL_MS);
        signal.addEventListener("abort", () => {
          clearTimeout(timer);
          resolve();
        }, { once: true });
      });
      if (signal.aborted) return;
      try {
        const stream = await options.open(cluster);
        missing.delete(cluster);
        deps.logger.info("cluster rejoined a degraded merged watch", { cluster });
        return options.join(stream);
      } catch (error) {
        if (error instanceof MergeError && error.code === 410) return options.expired(error);
        missing.set(cluster, (error as Error).message);
      }
    }
  };
  await Promise.all([...missing.keys()].map(retry));
}

/** A watch from a version the proxy cannot resolve: 200 and one 410 ERROR event, as kube-apiserver's cache answers. */
function sendExpired(res: ProxyResponse, error: MergeError, clusters: string[]): void {
  res.writeHead(200, {
    "content-type": "application/json;stream=watch",
    "cache-control": "no-cache, private",
    [CLUSTER_HEADER]: clusters.join(","),
  });
  res.end(JSON.stringify({ type: "ERROR", object: error.status }) + "\n");
}
