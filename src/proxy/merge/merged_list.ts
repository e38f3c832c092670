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
  givenVersions,
  type MergedReadDeps,
  type MergedReadOptions,
  MergeError,
  type Missing,
  sendBytes,
  sendJson,
  startVersion,
  unlessSkipped,
  upstreamHeaders,
  upstreamOf,
  wantsTable,
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
