/**
 * A merged LIST (I/O edge): the route's clusters asked in parallel and their items joined into
 * one list, or one page of a walk over the clusters in order (`limit`/`continue`). See
 * merge_objects.ts for how answers are combined and merged_version.ts for the versions.
 */
import type { ProxyRequest, ProxyResponse } from "../../http1/mod.ts";
import {
  clusterQuery,
  failMerged,
  failureOf,
  type MergedReadDeps,
  type MergedReadOptions,
  MergeError,
  type Missing,
  readStart,
  sendBytes,
  unlessSkipped,
  upstreamHeaders,
  upstreamOf,
  versionAt,
  warnings,
} from "./_read_support.ts";
import { decodeContinue, encodeContinue, type MergedContinue } from "./continue_token.ts";
import { joinSplicedLists, type SplicedList, spliceList } from "./list_splice.ts";
import {
  type ClusterAnswer,
  combineAnswers,
  type KubeObject,
  sameNamesAcrossClusters,
} from "./merge_objects.ts";
import { encodeMergedVersion, type VersionVector } from "./merged_version.ts";

/** Serves a merged LIST (with `limit`/`continue` pagination over the clusters in order). */
export async function serveMergedList(
  req: ProxyRequest,
  res: ProxyResponse,
  pathname: string,
  params: URLSearchParams,
  options: MergedReadOptions,
  deps: MergedReadDeps,
): Promise<void> {
  const { clusters } = options;
  const missing: Missing = new Map();
  try {
    const ask = clusterReader(req, pathname, { options, deps, missing });
    const read = { ask, params, pathname, clusters, deps };
    const paged = Number(params.get("limit") ?? 0) || params.get("continue");
    const list = paged ? await listPage(read) : await listAll(read);
    return sendAnswers(req, res, list, { clusters, missing });
  } catch (error) {
    return failMerged(req, res, error, clusters, deps);
  }
}

/** Asks one cluster for a list, with this query; nothing when a degraded read leaves it out. */
type Ask = (cluster: string, query: string) => Promise<Answer | undefined>;

/** What one merged LIST reads with. */
interface ListRead {
  ask: Ask;
  params: URLSearchParams;
  pathname: string;
  clusters: string[];
  deps: MergedReadDeps;
}

/** The answers to send, the versions they are at, and where the next page starts (if any). */
interface MergedAnswers {
  answers: Answer[];
  versions: VersionVector;
  continueToken: string | undefined;
}

/** Reads the clusters' lists with the client's headers (asking for JSON), through `read`. */
function clusterReader(
  req: ProxyRequest,
  pathname: string,
  { options, deps, missing }: {
    options: MergedReadOptions;
    deps: MergedReadDeps;
    missing: Missing;
  },
): Ask {
  const upstream = upstreamHeaders(req);
  const headers = upstream.headers;
  return (cluster, query) =>
    unlessSkipped(cluster, options, missing, async () => {
      const { status, body, contentType } = await upstreamOf(deps, cluster)
        .read(pathname + query, headers)
        .catch((error) => {
          throw new MergeError(503, `Cluster "${cluster}": ${(error as Error).message}`);
        });
      if (status !== 200) throw failureOf(cluster, status, body);
      return readAnswer(cluster, body, contentType, upstream.table);
    });
}

/** Everything at once: every cluster asked in parallel. */
async function listAll(
  { ask, params, pathname, clusters, deps }: ListRead,
): Promise<MergedAnswers> {
  const match = params.get("resourceVersionMatch") ?? "";
  const start = readStart(params, deps, { scope: pathname, lowerBound: match !== "Exact" });
  const answered = await Promise.all(
    clusters.map((cluster) => ask(cluster, clusterQuery(params, versionAt(start, cluster), {}))),
  );
  const answers = answered.filter((a): a is Answer => a !== undefined);
  if (answers.length === 0) throw new MergeError(503, "No cluster of the merged read answered");
  const versions: VersionVector = {};
  for (const answer of answers) {
    versions[answer.cluster] = answer.envelope.metadata?.resourceVersion ?? "";
  }
  return { answers, versions, continueToken: undefined };
}

/** One page: walk the clusters in order from where the token says, until the page is full. */
async function listPage(read: ListRead): Promise<MergedAnswers> {
  const { ask, params, clusters } = read;
  const limit = Number(params.get("limit") ?? 0);
  const answers: Answer[] = [];
  let remaining = limit || Number.MAX_SAFE_INTEGER;
  let next: MergedContinue | undefined = firstPosition(read);
  let versions = next.versions;
  while (next && remaining > 0) {
    const cluster: string = clusters[next.index]!;
    const answer = await ask(cluster, pageQuery(params, next, { cluster, remaining }));
    if (answer) answers.push(answer);
    remaining -= answer?.names.length ?? 0;
    ({ next, versions } = advance(next, { cluster, answer, clusterCount: clusters.length }));
  }
  return { answers, versions, continueToken: next ? encodeContinue(next) : undefined };
}

/** Where a page starts: the client's continue token, or the first cluster at the asked version. */
function firstPosition({ params, pathname, clusters, deps }: ListRead): MergedContinue {
  const continued = params.get("continue");
  if (continued) {
    try {
      return decodeContinue(continued, clusters.length);
    } catch (error) {
      throw new MergeError(400, (error as Error).message);
    }
  }
  const match = params.get("resourceVersionMatch") ?? "";
  const start = readStart(params, deps, { scope: pathname, lowerBound: match !== "Exact" });
  const versions = start.type === "at" ? start.versions : undefined;
  const position: MergedContinue = {
    index: 0,
    token: "",
    versions: {},
    ...(versions ? { start: { versions, match } } : {}),
  };
  if (start.type === "latest" && start.any) {
    position.start = { versions: anyVersion(clusters), match };
  }
  return position;
}

/**
 * The query for one cluster's part of a page. A cluster's own continue token carries its
 * version; a cluster the walk reaches is listed where the first page asked for (or as it is now).
 */
function pageQuery(
  params: URLSearchParams,
  at: MergedContinue,
  { cluster, remaining }: { cluster: string; remaining: number },
): string {
  const extra: Record<string, string> = { limit: String(remaining) };
  if (at.token) extra.continue = at.token;
  const version = at.token ? undefined : at.start?.versions[cluster];
  if (version !== undefined && at.start?.match) extra.resourceVersionMatch = at.start.match;
  return clusterQuery(params, version, extra);
}

/**
 * After one cluster's part: the versions seen so far, and where the walk goes on (the same
 * cluster's next page, the next cluster, or nowhere after the last).
 */
function advance(
  at: MergedContinue,
  { cluster, answer, clusterCount }: {
    cluster: string;
    answer: Answer | undefined;
    clusterCount: number;
  },
): { next: MergedContinue | undefined; versions: VersionVector } {
  const reported = at.versions[cluster] ?? answer?.envelope.metadata?.resourceVersion;
  const versions: VersionVector = { ...at.versions, ...(reported ? { [cluster]: reported } : {}) };
  const own = answer?.envelope.metadata?.continue;
  const walk: Pick<MergedContinue, "start"> = at.start ? { start: at.start } : {};
  if (own) return { next: { index: at.index, token: own, versions, ...walk }, versions };
  if (at.index + 1 < clusterCount) {
    return { next: { index: at.index + 1, token: "", versions, ...walk }, versions };
  }
  return { next: undefined, versions };
}

/** "0" for every cluster: any version will do. */
function anyVersion(clusters: string[]): VersionVector {
  return Object.fromEntries(clusters.map((cluster) => [cluster, "0"]));
}

/** One cluster's list: spliced bytes (lists) or a parsed Table (kubectl's small answers). */
interface Answer {
  cluster: string;
  envelope: KubeObject;
  names: string[];
  contentType: string;
  spliced?: SplicedList;
  table?: ClusterAnswer["body"];
}

/** A cluster's answer: a Table when the client asked for one and the cluster made one, else a list. */
function readAnswer(
  cluster: string,
  bytes: Uint8Array,
  contentType: string,
  askedForTable: boolean,
): Answer {
  if (askedForTable) {
    const body = JSON.parse(new TextDecoder().decode(bytes)) as ClusterAnswer["body"];
    if (body.kind === "Table") {
      const names = (body.rows ?? []).map((row) => {
        const metadata = (row.object?.metadata ?? {}) as { namespace?: string; name?: string };
        return metadata.namespace
          ? `${metadata.namespace}/${metadata.name}`
          : String(metadata.name);
      });
      return { cluster, envelope: body, names, contentType, table: body };
    }
  }
  const spliced = spliceList(bytes, cluster);
  return { cluster, envelope: spliced.envelope, names: spliced.names, contentType, spliced };
}

/** Sends the answers as one list (or Table), with Warnings for name clashes and missing clusters. */
function sendAnswers(
  req: ProxyRequest,
  res: ProxyResponse,
  { answers, versions, continueToken }: MergedAnswers,
  { clusters, missing }: { clusters: string[]; missing: Missing },
): void {
  const warning = warnings(sameNamesAcrossClusters(answers), missing);
  if (warning.length > 0) res.setHeader("warning", warning);
  const tables = answers.filter((answer) => answer.table).length;
  if (tables > 0 && tables < answers.length) {
    throw new MergeError(502, "The clusters answered in different forms (Table and list)");
  }
  // The clusters' own Content-Type (all JSON: application/json, whatever the conversion).
  const contentType = answers[0]?.contentType || "application/json";
  if (tables > 0) {
    const parts = answers.map(({ cluster, table }) => ({ cluster, body: table! }));
    const body = new TextEncoder().encode(
      JSON.stringify(combineAnswers(parts, versions, continueToken)),
    );
    return sendBytes(req, res, 200, body, clusters, contentType);
  }
  const metadata = {
    resourceVersion: encodeMergedVersion(versions),
    ...(continueToken ? { continue: continueToken } : {}),
  };
  const body = joinSplicedLists(answers.map((answer) => answer.spliced!), metadata);
  sendBytes(req, res, 200, body, clusters, contentType);
}
