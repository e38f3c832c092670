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
    const upstream = upstreamHeaders(req);
    const headers = Object.fromEntries(
      Object.entries(upstream.headers).map(([name, value]) => [name, String(value)]),
    );
    /** One cluster's answer, or nothing when a degraded read leaves the cluster out. */
    const ask = (cluster: string, query: string): Promise<Answer | undefined> =>
      unlessSkipped(cluster, options, missing, async () => {
        const { status, body, contentType } = await upstreamOf(deps, cluster)
          .read(pathname + query, headers)
          .catch((error) => {
            throw new MergeError(503, `Cluster "${cluster}": ${(error as Error).message}`);
          });
        if (status !== 200) throw failureOf(cluster, status, body);
        return readAnswer(cluster, body, contentType, upstream.table);
      });
    const limit = Number(params.get("limit") ?? 0);
    const continued = params.get("continue");
    const match = params.get("resourceVersionMatch") ?? "";
    if (!limit && !continued) {
      // Everything at once, in parallel.
      const start = readStart(params, deps, { scope: pathname, lowerBound: match !== "Exact" });
      const answered = await Promise.all(
        clusters.map((cluster) =>
          ask(cluster, clusterQuery(params, versionAt(start, cluster), {}))
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
    if (continued) {
      try {
        position = decodeContinue(continued, clusters.length);
      } catch (error) {
        throw new MergeError(400, (error as Error).message);
      }
    } else {
      const start = readStart(params, deps, { scope: pathname, lowerBound: match !== "Exact" });
      const versions = start.type === "at" ? start.versions : undefined;
      position = {
        index: 0,
        token: "",
        versions: {},
        ...(versions ? { start: { versions, match } } : {}),
      };
      if (start.type === "latest" && start.any) {
        position.start = { versions: anyVersion(clusters), match };
      }
    }
    const answers: Answer[] = [];
    let remaining = limit || Number.MAX_SAFE_INTEGER;
    let next: MergedContinue | undefined = position;
    while (next && remaining > 0) {
      const cluster: string = clusters[next.index]!;
      const extra: Record<string, string> = { limit: String(remaining) };
      if (next.token) extra.continue = next.token;
      // A cluster's own continue token carries its version; a cluster the walk reaches is
      // listed where the first page asked for (or as it is now).
      const version = next.token ? undefined : next.start?.versions[cluster];
      if (version !== undefined && next.start?.match) extra.resourceVersionMatch = next.start.match;
      const answer = await ask(cluster, clusterQuery(params, version, extra));
      if (answer) answers.push(answer);
      remaining -= answer?.names.length ?? 0;
      const reported = next.versions[cluster] ?? answer?.envelope.metadata?.resourceVersion;
      const seen: VersionVector = {
        ...next.versions,
        ...(reported ? { [cluster]: reported } : {}),
      };
      const own = answer?.envelope.metadata?.continue;
      const walk: Pick<MergedContinue, "start"> = next.start ? { start: next.start } : {};
      if (own) next = { index: next.index, token: own, versions: seen, ...walk };
      else if (next.index + 1 < clusters.length) {
        next = { index: next.index + 1, token: "", versions: seen, ...walk };
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

function sendAnswers(
  req: ProxyRequest,
  res: ProxyResponse,
  answers: Answer[],
  versions: VersionVector,
  continueToken: string | undefined,
  clusters: string[],
  missing: Missing,
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
