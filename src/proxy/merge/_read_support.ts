/**
 * What the merged LIST and WATCH share (I/O edge): their options and errors, the queries and
 * headers sent to each cluster, and the answers the proxy makes itself.
 */
import type { ProxyRequest, ProxyResponse } from "../../http1/mod.ts";
import type { Logger } from "../../log/mod.ts";
import { type Status, statusOf } from "../../kube/mod.ts";
import { forwardedHeaders } from "../../forward/mod.ts";
import { CLUSTER_HEADER, proxyStatus } from "../../forward/mod.ts";
import type { Upstream } from "../../forward/mod.ts";
import { mergedAccept } from "./merged_accept.ts";
import type { KubeObject } from "./merge_objects.ts";
import type { PositionMemory } from "./position_memory.ts";
import { encodeBody } from "./response_encoding.ts";
import { DamagedVersionError, type StartPosition, startPosition } from "./start_position.ts";

/** What a merged read needs. */
export interface MergedReadDeps {
  upstream: (cluster: string) => Upstream | undefined;
  logger: Logger;
  /** The positions behind the versions merged watches issued (shared by all merged reads). */
  positions: PositionMemory;
}

/** How one merged read behaves. */
export interface MergedReadOptions {
  clusters: string[];
  /** Answer from the clusters that work (with a Warning naming the others) instead of failing. */
  degraded: boolean;
}

/** Clusters a degraded read left out, and why. */
export type Missing = Map<string, string>;

/** True when a degraded read may leave the cluster out (an expired version never is). */
export function skippable(error: unknown, options: MergedReadOptions): boolean {
  return options.degraded && !(error instanceof MergeError && error.code === 410);
}

export function warnings(clashes: string[], missing: Missing): string[] {
  const result: string[] = [];
  if (missing.size > 0) {
    result.push(
      `299 - "answered without ${
        [...missing].map(([cluster, why]) => `${cluster} (${why.replaceAll('"', "'")})`).join(", ")
      }"`,
    );
  }
  if (clashes.length > 0) {
    result.push(
      `299 - "${clashes.length} object name(s) exist in several clusters (${
        clashes.slice(0, 3).join("; ")
      }): clients that key objects by namespace/name keep only one of each"`,
    );
  }
  return result;
}

/** A merged read that cannot be served: becomes a Status with this code. */
export class MergeError extends Error {
  constructor(readonly code: number, message: string, readonly status?: KubeObject | Status) {
    super(message);
  }
}

/** Sends JSON bytes, gzipped as kube-apiserver would when large and the client accepts it. */
export function sendBytes(
  req: ProxyRequest,
  res: ProxyResponse,
  code: number,
  bytes: Uint8Array,
  clusters: string[],
  contentType = "application/json",
): void {
  const { body, encoding } = encodeBody(bytes, req.headers["accept-encoding"]);
  res.writeHead(code, {
    "content-type": contentType,
    "content-length": body.length,
    "cache-control": "no-cache, private",
    ...(encoding ? { "content-encoding": encoding, vary: "Accept-Encoding" } : {}),
    [CLUSTER_HEADER]: clusters.join(","),
  });
  res.end(body);
}

export function sendJson(
  req: ProxyRequest,
  res: ProxyResponse,
  code: number,
  body: unknown,
  clusters: string[],
): void {
  sendBytes(req, res, code, new TextEncoder().encode(JSON.stringify(body)), clusters);
}

/**
 * The query for one cluster: the client's, with that cluster's own version (if any) and extras.
 * A LIST without a version has no `resourceVersionMatch` either (kube-apiserver forbids it); a
 * watch-list keeps it (it requires it).
 */
export function clusterQuery(
  params: URLSearchParams,
  version: string | undefined,
  extra: Record<string, string>,
): string {
  const query = new URLSearchParams(params);
  for (const name of ["continue", "limit", "resourceVersion"]) query.delete(name);
  if (version !== undefined) query.set("resourceVersion", version);
  else if (extra.watch === undefined) query.delete("resourceVersionMatch");
  for (const [name, value] of Object.entries(extra)) query.set(name, value);
  const text = query.toString();
  return text ? `?${text}` : "";
}

/** Where a read on `pathname` starts; a damaged merged version is a 400, an expired one a 410. */
export function readStart(
  params: URLSearchParams,
  deps: MergedReadDeps,
  options: { scope: string; lowerBound: boolean },
): Exclude<StartPosition, { type: "expired" }> {
  let start: StartPosition;
  try {
    start = startPosition(params, deps.positions, options);
  } catch (error) {
    if (error instanceof DamagedVersionError) throw new MergeError(400, error.message);
    throw error;
  }
  if (start.type === "expired") throw expiredError(start.message);
  return start;
}

/** A 410 Gone with the reason kube-apiserver gives a version it no longer has. */
export function expiredError(message: string): MergeError {
  return new MergeError(410, message, statusOf(410, "Expired", message));
}

/** The version to ask `cluster` for, at a start position (undefined: its latest state). */
export function versionAt(start: StartPosition, cluster: string): string | undefined {
  if (start.type === "at") return start.versions[cluster];
  return start.type === "latest" && start.any ? "0" : undefined;
}

/**
 * Upstream headers: the client's, asking for the JSON form the client accepts (merged_accept.ts)
 * without compression; `table` says whether the client asked for Tables. A client that accepts
 * no JSON form gets 406.
 */
export function upstreamHeaders(
  req: ProxyRequest,
): { headers: Record<string, string | string[]>; table: boolean } {
  const negotiated = mergedAccept(req.headers.accept);
  if (negotiated.type === "not-acceptable") {
    const message = negotiated.message;
    throw new MergeError(406, message, statusOf(406, "NotAcceptable", message));
  }
  const headers = forwardedHeaders(req, { upgrade: false, keepImpersonation: true });
  headers.accept = negotiated.accept;
  delete headers["accept-encoding"];
  return { headers, table: negotiated.table };
}

export function upstreamOf(deps: MergedReadDeps, cluster: string): Upstream {
  const upstream = deps.upstream(cluster);
  if (!upstream) throw new MergeError(503, `Cluster "${cluster}" is not available in this proxy`);
  return upstream;
}

/** The work's result, or undefined (the cluster noted as missing) when a degraded read may skip it. */
export async function unlessSkipped<T>(
  cluster: string,
  options: MergedReadOptions,
  missing: Missing,
  work: () => Promise<T>,
): Promise<T | undefined> {
  try {
    return await work();
  } catch (error) {
    if (!skippable(error, options)) throw error;
    missing.set(cluster, (error as Error).message);
    return undefined;
  }
}

/** A cluster's error answer (read whole), relayed with its code and the cluster named. */
export function failureOf(cluster: string, code: number, body: Uint8Array): MergeError {
  let status: KubeObject | undefined;
  try {
    status = JSON.parse(new TextDecoder().decode(body));
  } catch {
    status = undefined;
  }
  const message = (status as { message?: string } | undefined)?.message ?? `HTTP ${code}`;
  return new MergeError(code, `Cluster "${cluster}": ${message}`, status);
}

export function failMerged(
  req: ProxyRequest,
  res: ProxyResponse,
  error: unknown,
  clusters: string[],
  deps: MergedReadDeps,
): void {
  const code = error instanceof MergeError ? error.code : 500;
  const message = (error as Error).message;
  deps.logger.warn("merged read failed", { clusters, code, error: message });
  if (res.headersSent) return void res.destroy();
  const status = error instanceof MergeError && error.status?.kind === "Status"
    ? { ...error.status, message }
    : proxyStatus(code, message);
  sendJson(req, res, code, status, clusters);
}
