/**
 * The request path's third step: where a request goes. The pure decision (route.ts) says one
 * cluster, merged clusters, a refusal, or candidates to ask; here the candidates are asked (the
 * owner index first), so that what remains is the decision without its lookup.
 */
import type { IncomingHttpHeaders } from "node:http";
import type { BodyMetadata } from "./body_metadata.ts";
import { OwnerIndex } from "./owner_index.ts";
import type { RequestInfo } from "./request_info.ts";
import { decideRoute, type RouteDecision } from "./route.ts";
import type { ProxyContext } from "./proxy_context.ts";

/** A settled target: a route decision whose lookup found one cluster, or refused as ambiguous. */
export type ProxyTarget = Exclude<RouteDecision, { type: "lookup" }>;

/** Routes the request, asking candidate clusters when routing cannot tell. */
export async function settleTarget(
  context: ProxyContext,
  info: RequestInfo,
  options: { headers: IncomingHttpHeaders; body?: BodyMetadata | undefined },
): Promise<ProxyTarget> {
  const decision = decideRoute(context.config(), {
    info,
    header: (name) => headerValue(options.headers, name),
    ...(options.body ? { body: options.body } : {}),
  });
  if (decision.type !== "lookup") return decision;
  return await lookUpOwner(context, info, decision.candidates);
}

/** The cluster that holds a named object: the one seen before, else the one candidate that has it. */
async function lookUpOwner(
  context: ProxyContext,
  info: RequestInfo,
  candidates: string[],
): Promise<ProxyTarget> {
  const { index, metrics } = context;
  const key = OwnerIndex.key(info);
  const known = index.get(key);
  if (known && candidates.includes(known)) {
    metrics.lookups.inc({ result: "index" });
    return { type: "cluster", cluster: known, reason: "seen there before" };
  }
  const found = await findOwners(context, info, candidates);
  if (found.length > 1) {
    metrics.lookups.inc({ result: "ambiguous" });
    return { type: "reject", code: 409, message: ambiguousMessage(info, found) };
  }
  if (found.length === 1) {
    metrics.lookups.inc({ result: "found" });
    index.set(key, found[0]!);
    return {
      type: "cluster",
      cluster: found[0]!,
      reason: `found there among ${candidates.join(", ")}`,
    };
  }
  metrics.lookups.inc({ result: "missing" });
  // Nobody has it: the last candidate (the default) answers, with a genuine NotFound for reads.
  return {
    type: "cluster",
    cluster: candidates.at(-1)!,
    reason: "not found in any candidate: default",
  };
}

function ambiguousMessage(info: RequestInfo, found: string[]): string {
  const where = info.namespace ? ` in namespace "${info.namespace}"` : "";
  return `${info.resource} "${info.name}"${where} exists in several clusters (${
    found.join(", ")
  }); pin it with the label mca.k8s.io/cluster or a route`;
}

/** Asks every candidate for the object's metadata, in parallel. */
async function findOwners(
  context: ProxyContext,
  info: RequestInfo,
  candidates: string[],
): Promise<string[]> {
  const objectPath = objectPathOf(info);
  const answers = await Promise.all(candidates.map(async (cluster) => {
    const upstream = context.upstream(cluster);
    if (!upstream) return undefined;
    try {
      const response = await upstream.request({
        method: "GET",
        path: objectPath,
        headers: {
          accept: "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json",
        },
      });
      response.resume();
      return response.statusCode === 200 ? cluster : undefined;
    } catch {
      return undefined;
    }
  }));
  return answers.filter((cluster): cluster is string => cluster !== undefined);
}

/** The object a by-name request addresses, without its subresource. */
function objectPathOf(info: RequestInfo): string {
  const segments = info.apiGroup
    ? ["apis", info.apiGroup, info.apiVersion]
    : ["api", info.apiVersion];
  if (info.namespace && info.resource !== "namespaces") segments.push("namespaces", info.namespace);
  segments.push(info.resource, info.name);
  return "/" + segments.map(encodeURIComponent).join("/");
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | null {
  const value = headers[name.toLowerCase()];
  if (value === undefined) return null;
  return Array.isArray(value) ? value.join(", ") : value;
}
