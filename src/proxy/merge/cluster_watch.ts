/** One cluster's part of a merged WATCH (I/O edge): opened at its start position or its latest. */
import type { UpstreamResponse } from "../../forward/mod.ts";
import {
  clusterQuery,
  failureOf,
  type MergedReadDeps,
  MergeError,
  upstreamOf,
} from "./_read_support.ts";
import { collectionPath, type StartPosition } from "./start_position.ts";

/** One cluster's open watch, and where its stream starts (undefined: known from its events). */
export interface ClusterStream {
  cluster: string;
  response: UpstreamResponse;
  position: string | undefined;
}

/** What opening a cluster's watch needs. */
export interface OpenOptions {
  pathname: string;
  params: URLSearchParams;
  headers: Record<string, string | string[]>;
  start: StartPosition;
  signal: AbortSignal;
}

/**
 * Opens one cluster's watch. A cluster with a known start position watches from it. Otherwise
 * it watches from its latest state (its current objects arrive as ADDED events, as from
 * kube-apiserver), and a short LIST asked first tells where that state is at least: the position
 * a client resuming from any event gets for that cluster. A watch-list's clusters tell it
 * themselves, with their own events.
 */
export async function openClusterWatch(
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
