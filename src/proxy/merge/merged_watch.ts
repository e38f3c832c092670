/**
 * A merged WATCH (I/O edge): one upstream watch per cluster, their event lines merged as they
 * arrive (watch_merger.ts), and, when a degraded watch left clusters out, those clusters tried
 * again every few seconds until they join.
 */
import type { ProxyRequest, ProxyResponse } from "../../http1/mod.ts";
import { queryFlag } from "../../forward/mod.ts";
import { CLUSTER_HEADER } from "../../forward/mod.ts";
import {
  failMerged,
  type MergedReadDeps,
  type MergedReadOptions,
  MergeError,
  type Missing,
  readStart,
  unlessSkipped,
  upstreamHeaders,
  warnings,
} from "./_read_support.ts";
import { type ClusterStream, openClusterWatch, type OpenOptions } from "./cluster_watch.ts";
import { LineSplitter } from "./line_splitter.ts";
import { collectionPath } from "./start_position.ts";
import { WatchMerger } from "./watch_merger.ts";

/** How often a degraded merged watch asks the clusters it left out again. */
export const REJOIN_INTERVAL_MS = 5_000;

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
    const watch = prepareWatch(req, { pathname, params, deps, signal: abort.signal });
    const streams = await openClusters(watch, { options, deps, missing });
    for (const stream of streams) watch.merger.join(stream.cluster, stream.position);
    writeWatchHead(res, streams, missing);
    await mergeEvents(res, streams, { watch, missing, deps, signal: abort.signal });
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

/** One merged watch: how each cluster's watch is opened, and the merger of their events. */
interface MergedWatch {
  opening: OpenOptions;
  merger: WatchMerger;
  /** The client asked for its initial state as events (sendInitialEvents). */
  watchList: boolean;
}

/** Where the watch starts and what each cluster is asked with. */
function prepareWatch(
  req: ProxyRequest,
  { pathname, params, deps, signal }: {
    pathname: string;
    params: URLSearchParams;
    deps: MergedReadDeps;
    signal: AbortSignal;
  },
): MergedWatch {
  const { headers } = upstreamHeaders(req);
  const watchList = queryFlag(params, "sendInitialEvents") === true;
  // A watch-list only bounds how old its initial state may be; a plain watch resumes.
  const scope = collectionPath(pathname);
  const start = readStart(params, deps, { scope, lowerBound: watchList });
  const merger = new WatchMerger({ watchList, scope, positions: deps.positions });
  return { opening: { pathname, params, headers, start, signal }, merger, watchList };
}

/** Opens every cluster's watch in parallel; a degraded watch goes on without those that fail. */
async function openClusters(
  watch: MergedWatch,
  { options, deps, missing }: {
    options: MergedReadOptions;
    deps: MergedReadDeps;
    missing: Missing;
  },
): Promise<ClusterStream[]> {
  const opened = await Promise.all(
    options.clusters.map((cluster) =>
      unlessSkipped(
        cluster,
        options,
        missing,
        () => openClusterWatch(deps, cluster, watch.opening, watch.watchList),
      )
    ),
  );
  const streams = opened.filter((stream) => stream !== undefined);
  if (streams.length === 0) throw new MergeError(503, "No cluster of the merged watch answered");
  return streams;
}

/** The head goes out at once, naming the clusters watched and warning of those left out. */
function writeWatchHead(res: ProxyResponse, streams: ClusterStream[], missing: Missing): void {
  const warning = warnings([], missing);
  if (warning.length > 0) res.setHeader("warning", warning);
  res.writeHead(200, {
    "content-type": String(streams[0]!.response.headers["content-type"] ?? "application/json"),
    "cache-control": "no-cache, private",
    [CLUSTER_HEADER]: streams.map((stream) => stream.cluster).join(","),
  });
  res.flushHeaders();
}

/**
 * Relays every cluster's events, and those of clusters that rejoin; settles when the first
 * stream ends (or a rejoining cluster's position expired, said to the client with a 410 event).
 */
function mergeEvents(
  res: ProxyResponse,
  streams: ClusterStream[],
  { watch, missing, deps, signal }: {
    watch: MergedWatch;
    missing: Missing;
    deps: MergedReadDeps;
    signal: AbortSignal;
  },
): Promise<void> {
  const { promise: ended, resolve, reject } = Promise.withResolvers<void>();
  const relay = (stream: ClusterStream) =>
    relayEvents(stream, watch.merger, res, deps).then(resolve, reject);
  streams.forEach(relay);
  if (missing.size > 0) {
    rejoin(missing, {
      open: (cluster) => openClusterWatch(deps, cluster, watch.opening, false),
      join: (stream) => {
        if (signal.aborted) return void stream.response.destroy();
        watch.merger.join(stream.cluster, stream.position);
        relay(stream);
      },
      expired: (error) => {
        res.write(JSON.stringify({ type: "ERROR", object: error.status }) + "\n");
        resolve();
      },
      signal,
      deps,
    }).catch(reject);
  }
  return ended;
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
