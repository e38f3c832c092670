/**
 * Merged reads (I/O edge): a LIST fans out to the route's clusters and comes back as one list;
 * a WATCH opens one upstream watch per cluster and interleaves their events. See
 * merge_objects.ts for how answers are combined and merged_version.ts for the versions.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "../../log/mod.ts";
import { forwardedHeaders } from "../http_forwarding.ts";
import { CLUSTER_HEADER, proxyStatus } from "../status_response.ts";
import type { Upstream } from "../upstream.ts";
import { decodeContinue, encodeContinue, type MergedContinue } from "./continue_token.ts";
import {
  type ClusterAnswer,
  combineAnswers,
  endsInitialEvents,
  type KubeObject,
  sameNamesAcrossClusters,
  translateEvent,
  type WatchEvent,
  withoutInitialEventsEnd,
} from "./merge_objects.ts";
import {
  decodeMergedVersion,
  encodeMergedVersion,
  isMergedVersion,
  type VersionVector,
} from "./merged_version.ts";
import { joinSplicedLists, type SplicedList, spliceList } from "./list_splice.ts";
import { encodeBody } from "./response_encoding.ts";

/** What a merged read needs. */
export interface MergedReadDeps {
  upstream: (cluster: string) => Upstream | undefined;
  logger: Logger;
}

/** How one merged read behaves. */
export interface MergedReadOptions {
  clusters: string[];
  /** Answer from the clusters that work (with a Warning naming the others) instead of failing. */
  degraded: boolean;
}

/** Clusters a degraded read left out, and why. */
type Missing = Map<string, string>;

/** True when a degraded read may leave the cluster out (an expired version never is). */
function skippable(error: unknown, options: MergedReadOptions): boolean {
  return options.degraded && !(error instanceof MergeError && error.code === 410);
}

function warnings(clashes: string[], missing: Missing): string[] {
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
class MergeError extends Error {
  constructor(readonly code: number, message: string, readonly status?: KubeObject) {
    super(message);
  }
}

/** Sends JSON bytes, gzipped as kube-apiserver would when large and the client accepts it. */
function sendBytes(
  req: IncomingMessage,
  res: ServerResponse,
  code: number,
  bytes: Uint8Array,
  clusters: string[],
): void {
  const { body, encoding } = encodeBody(bytes, req.headers["accept-encoding"]);
  res.writeHead(code, {
    "content-type": "application/json",
    "content-length": body.length,
    "cache-control": "no-cache, private",
    ...(encoding ? { "content-encoding": encoding, vary: "Accept-Encoding" } : {}),
    [CLUSTER_HEADER]: clusters.join(","),
  });
  res.end(body);
}

function sendJson(
  req: IncomingMessage,
  res: ServerResponse,
  code: number,
  body: unknown,
  clusters: string[],
): void {
  sendBytes(req, res, code, new TextEncoder().encode(JSON.stringify(body)), clusters);
}

/** The query for one cluster: the client's, with that cluster's own version (if any) and extras. */
function clusterQuery(
  params: URLSearchParams,
  version: string | undefined,
  extra: Record<string, string>,
): string {
  const query = new URLSearchParams(params);
  for (const name of ["continue", "limit", "resourceVersion"]) query.delete(name);
  if (version !== undefined) query.set("resourceVersion", version);
  for (const [name, value] of Object.entries(extra)) query.set(name, value);
  const text = query.toString();
  return text ? `?${text}` : "";
}

/** The version a cluster starts from: its part of a merged version, or the client's plain one ("0"). */
function startVersion(
  params: URLSearchParams,
  versions: VersionVector | undefined,
  cluster: string,
): string | undefined {
  if (versions) return versions[cluster];
  return params.get("resourceVersion") ?? undefined;
}

/** The client's resourceVersion as a vector when it is a merged one. */
function givenVersions(params: URLSearchParams): VersionVector | undefined {
  const given = params.get("resourceVersion");
  if (!given || !isMergedVersion(given)) return undefined;
  try {
    return decodeMergedVersion(given);
  } catch (error) {
    throw new MergeError(400, (error as Error).message);
  }
}

/** Upstream headers: the client's, asking for JSON (or a JSON Table) without compression. */
function upstreamHeaders(req: IncomingMessage): Record<string, string | string[]> {
  const headers = forwardedHeaders(req, { upgrade: false });
  headers.accept = wantsTable(req)
    ? "application/json;as=Table;v=v1;g=meta.k8s.io"
    : "application/json";
  delete headers["accept-encoding"];
  return headers;
}

function upstreamOf(deps: MergedReadDeps, cluster: string): Upstream {
  const upstream = deps.upstream(cluster);
  if (!upstream) throw new MergeError(503, `Cluster "${cluster}" is not available in this proxy`);
  return upstream;
}

/** The work's result, or undefined (the cluster noted as missing) when a degraded read may skip it. */
async function unlessSkipped<T>(
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

async function askCluster(
  deps: MergedReadDeps,
  cluster: string,
  path: string,
  headers: Record<string, string | string[]>,
  signal?: AbortSignal,
): Promise<IncomingMessage> {
  const upstream = upstreamOf(deps, cluster);
  try {
    return await upstream.request({ method: "GET", path, headers, ...(signal ? { signal } : {}) });
  } catch (error) {
    throw new MergeError(503, `Cluster "${cluster}": ${(error as Error).message}`);
  }
}

/** A cluster's error answer (read whole), relayed with its code and the cluster named. */
function failureOf(cluster: string, code: number, body: Uint8Array): MergeError {
  let status: KubeObject | undefined;
  try {
    status = JSON.parse(new TextDecoder().decode(body));
  } catch {
    status = undefined;
  }
  const message = (status as { message?: string } | undefined)?.message ?? `HTTP ${code}`;
  return new MergeError(code, `Cluster "${cluster}": ${message}`, status);
}

/** A cluster's error answer, relayed with its code and the cluster named in the message. */
async function clusterFailure(cluster: string, response: IncomingMessage): Promise<MergeError> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of response as AsyncIterable<Uint8Array>) chunks.push(chunk);
  return failureOf(cluster, response.statusCode ?? 502, Buffer.concat(chunks));
}

/** Serves a merged LIST (with `limit`/`continue` pagination over the clusters in order). */
export async function serveMergedList(
  req: IncomingMessage,
  res: ServerResponse,
  pathname: string,
  params: URLSearchParams,
  options: MergedReadOptions,
  deps: MergedReadDeps,
): Promise<void> {
  const { clusters } = options;
  const missing: Missing = new Map();
  const table = wantsTable(req);
  const headers = Object.fromEntries(
    Object.entries(upstreamHeaders(req)).map(([name, value]) => [name, String(value)]),
  );
  /** One cluster's answer, or nothing when a degraded read leaves the cluster out. */
  const ask = (cluster: string, query: string): Promise<Answer | undefined> =>
    unlessSkipped(cluster, options, missing, async () => {
      const { status, body } = await upstreamOf(deps, cluster).read(pathname + query, headers)
        .catch((error) => {
          throw new MergeError(503, `Cluster "${cluster}": ${(error as Error).message}`);
        });
      if (status !== 200) throw failureOf(cluster, status, body);
      return readAnswer(cluster, body, table);
    });
  try {
    const limit = Number(params.get("limit") ?? 0);
    const continued = params.get("continue");
    if (!limit && !continued) {
      // Everything at once, in parallel.
      const versions = givenVersions(params);
      const answered = await Promise.all(
        clusters.map((cluster) =>
          ask(cluster, clusterQuery(params, startVersion(params, versions, cluster), {}))
        ),
      );
      const answers = answered.filter((a): a is Answer => a !== undefined);
      if (answers.length === 0) throw new MergeError(503, "No cluster of the merged read answered");
      const merged: VersionVector = {};
      for (const answer of answers) {
        merged[answer.cluster] = answer.envelope.metadata?.resourceVersion ?? "";
      }
      return sendAnswers(req, res, answers, merged, undefined, clusters, missing);
    }
    // One page: walk the clusters in order from where the token says, until the page is full.
    let position: MergedContinue;
    try {
      position = continued
        ? decodeContinue(continued, clusters.length)
        : { index: 0, token: "", versions: {} };
    } catch (error) {
      throw new MergeError(400, (error as Error).message);
    }
    const versions = continued ? undefined : givenVersions(params);
    const answers: Answer[] = [];
    let remaining = limit || Number.MAX_SAFE_INTEGER;
    let next: MergedContinue | undefined = position;
    while (next && remaining > 0) {
      const cluster: string = clusters[next.index]!;
      const extra: Record<string, string> = { limit: String(remaining) };
      if (next.token) extra.continue = next.token;
      // A cluster's own continue token carries its version; a new cluster of a continued walk
      // is listed as it is now.
      const version = next.token || continued ? undefined : startVersion(params, versions, cluster);
      const answer = await ask(cluster, clusterQuery(params, version, extra));
      if (answer) answers.push(answer);
      remaining -= answer?.names.length ?? 0;
      const seen: VersionVector = {
        ...next.versions,
        [cluster]: next.versions[cluster] ?? answer?.envelope.metadata?.resourceVersion ?? "",
      };
      const own = answer?.envelope.metadata?.continue;
      if (own) next = { index: next.index, token: own, versions: seen };
      else if (next.index + 1 < clusters.length) {
        next = { index: next.index + 1, token: "", versions: seen };
      } else {
        position = { ...next, versions: seen };
        next = undefined;
      }
    }
    const vector = next ? next.versions : position.versions;
    const token = next ? encodeContinue(next) : undefined;
    return sendAnswers(req, res, answers, vector, token, clusters, missing);
  } catch (error) {
    return failMerged(req, res, error, clusters, deps);
  }
}

/** One cluster's list: spliced bytes (lists) or a parsed Table (kubectl's small answers). */
interface Answer {
  cluster: string;
  envelope: KubeObject;
  names: string[];
  spliced?: SplicedList;
  table?: ClusterAnswer["body"];
}

function wantsTable(req: IncomingMessage): boolean {
  return /as=Table/.test(String(req.headers.accept ?? ""));
}

function readAnswer(cluster: string, bytes: Uint8Array, table: boolean): Answer {
  if (!table) {
    const spliced = spliceList(bytes, cluster);
    return { cluster, envelope: spliced.envelope, names: spliced.names, spliced };
  }
  const body = JSON.parse(new TextDecoder().decode(bytes)) as ClusterAnswer["body"];
  const names = (body.rows ?? []).map((row) => {
    const metadata = (row.object?.metadata ?? {}) as { namespace?: string; name?: string };
    return metadata.namespace ? `${metadata.namespace}/${metadata.name}` : String(metadata.name);
  });
  return { cluster, envelope: body, names, table: body };
}

function sendAnswers(
  req: IncomingMessage,
  res: ServerResponse,
  answers: Answer[],
  versions: VersionVector,
  continueToken: string | undefined,
  clusters: string[],
  missing: Missing,
): void {
  const warning = warnings(sameNamesAcrossClusters(answers), missing);
  if (warning.length > 0) res.setHeader("warning", warning);
  if (answers.some((answer) => answer.table)) {
    const tables = answers.map(({ cluster, table }) => ({ cluster, body: table ?? {} }));
    return sendJson(req, res, 200, combineAnswers(tables, versions, continueToken), clusters);
  }
  const metadata = {
    resourceVersion: encodeMergedVersion(versions),
    ...(continueToken ? { continue: continueToken } : {}),
  };
  const body = joinSplicedLists(answers.map((answer) => answer.spliced!), metadata);
  sendBytes(req, res, 200, body, clusters);
}

function failMerged(
  req: IncomingMessage,
  res: ServerResponse,
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

/**
 * Serves a merged WATCH: one upstream watch per cluster, each from its part of the merged
 * version; events are rewritten and interleaved as they arrive. Any cluster's error (a 410
 * included) or end ends the merged watch, so the client re-lists or re-watches as usual.
 */
export async function serveMergedWatch(
  req: IncomingMessage,
  res: ServerResponse,
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
