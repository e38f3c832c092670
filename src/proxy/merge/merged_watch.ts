/**
 * A merged WATCH (I/O edge): one upstream watch per cluster, each from its part of the merged
 * version, their events rewritten and interleaved as they arrive.
 */
import type { ProxyRequest, ProxyResponse } from "../../http1/mod.ts";
import { CLUSTER_HEADER } from "../status_response.ts";
import {
  clusterQuery,
  failMerged,
  failureOf,
  givenVersions,
  type MergedReadDeps,
  type MergedReadOptions,
  MergeError,
  type Missing,
  startVersion,
  unlessSkipped,
  upstreamHeaders,
  upstreamOf,
  warnings,
} from "./_read_support.ts";
import {
  endsInitialEvents,
  translateEvent,
  type WatchEvent,
  withoutInitialEventsEnd,
} from "./merge_objects.ts";
import type { VersionVector } from "./merged_version.ts";
import type { UpstreamResponse } from "../upstream.ts";
async function askCluster(
  deps: MergedReadDeps,
  cluster: string,
  path: string,
  headers: Record<string, string | string[]>,
  signal?: AbortSignal,
): Promise<UpstreamResponse> {
  const upstream = upstreamOf(deps, cluster);
  try {
    return await upstream.request({ method: "GET", path, headers, ...(signal ? { signal } : {}) });
  } catch (error) {
    throw new MergeError(503, `Cluster "${cluster}": ${(error as Error).message}`);
  }
}

/** A cluster's error answer, relayed with its code and the cluster named in the message. */
async function clusterFailure(cluster: string, response: UpstreamResponse): Promise<MergeError> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of response as AsyncIterable<Uint8Array>) chunks.push(chunk);
  return failureOf(cluster, response.statusCode ?? 502, Buffer.concat(chunks));
}

/**
 * Serves a merged WATCH: one upstream watch per cluster, each from its part of the merged
 * version; events are rewritten and interleaved as they arrive. Any cluster's error (a 410
 * included) or end ends the merged watch, so the client re-lists or re-watches as usual.
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
    const headers = upstreamHeaders(req);
    const given = givenVersions(params);
    const versions: VersionVector = { ...given };
    const watchList = params.get("sendInitialEvents") === "true";
    const opened = await Promise.all(
      options.clusters.map((cluster) =>
        unlessSkipped(cluster, options, missing, async () => {
          const query = clusterQuery(params, startVersion(params, given, cluster), {
            watch: "true",
          });
          const response = await askCluster(deps, cluster, pathname + query, headers, abort.signal);
          if (response.statusCode !== 200) throw await clusterFailure(cluster, response);
          return { cluster, response };
        })
      ),
    );
    const responses = opened.filter((o) => o !== undefined);
    if (responses.length === 0) {
      throw new MergeError(503, "No cluster of the merged watch answered");
    }
    const clusters = responses.map((o) => o.cluster);
    const warning = warnings([], missing);
    if (warning.length > 0) res.setHeader("warning", warning);
    res.writeHead(200, {
      "content-type": "application/json",
      "cache-control": "no-cache, private",
      [CLUSTER_HEADER]: clusters.join(","),
    });
    res.flushHeaders();
    const initialDone = new Set<string>();
    const emit = (event: WatchEvent) => res.write(JSON.stringify(event) + "\n");
    await Promise.race(responses.map(async ({ cluster, response }) => {
      let pending = "";
      for await (const chunk of response as AsyncIterable<Uint8Array>) {
        pending += Buffer.from(chunk).toString("utf8");
        let newline: number;
        while ((newline = pending.indexOf("\n")) >= 0) {
          const line = pending.slice(0, newline).trim();
          pending = pending.slice(newline + 1);
          if (!line) continue;
          const event = JSON.parse(line) as WatchEvent;
          const merged = translateEvent(event, cluster, versions);
          if (watchList && endsInitialEvents(event)) {
            initialDone.add(cluster);
            // The initial phase ends once, after every cluster's initial events.
            emit(initialDone.size === clusters.length ? merged : withoutInitialEventsEnd(merged));
            continue;
          }
          emit(merged);
          if (event.type === "ERROR") {
            // A 410 here makes the client relist, as it would against one cluster.
            deps.logger.info("merged watch ended by a cluster's error", {
              cluster,
              code: (event.object as { code?: number }).code,
              reason: (event.object as { reason?: string }).reason,
            });
            return;
          }
        }
      }
    }));
    res.end();
  } catch (error) {
    if (abort.signal.aborted && res.destroyed) return;
    failMerged(req, res, error, options.clusters, deps);
  } finally {
    abort.abort();
  }
}
