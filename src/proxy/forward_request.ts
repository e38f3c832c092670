/**
 * The request path's last step for one cluster: send the request there with the cluster's
 * credentials (the caller's are dropped), note where named objects live, and stream the answer
 * back as it arrives.
 */
import {
  auditIdField,
  forwardedHeaders,
  queryFlag,
  relayStream,
  responseHeaders,
  streamBoundary,
  type Upstream,
  upstreamErrorCode,
  type UpstreamResponse,
  writeStatus,
} from "../forward/mod.ts";
import type { BodyMetadata } from "./body_metadata.ts";
import { unmergeBody } from "./merge/unmerge_body.ts";
import { OwnerIndex } from "./owner_index.ts";
import { countRequest, type ProxiedRequest, type ProxyContext } from "./proxy_context.ts";
import type { RequestInfo } from "./request_info.ts";
import type { ProxyTarget } from "./settle_target.ts";

/** A request settled on one cluster, with the body read for it. */
export interface ForwardOptions {
  target: Extract<ProxyTarget, { type: "cluster" }>;
  /** The body, read to route it (forwarded from memory). */
  bytes: Uint8Array | undefined;
  /** What routing read in it. */
  metadata: BodyMetadata | undefined;
}

/** Forwards the request to its cluster and relays the answer; failures become a Status. */
export async function forwardRequest(
  context: ProxyContext,
  request: ProxiedRequest,
  { target, bytes, metadata }: ForwardOptions,
): Promise<void> {
  const { cluster } = target;
  const upstream = context.upstream(cluster);
  if (!upstream) {
    countRequest(context, request, cluster, 503);
    writeStatus(request.res, 503, unavailableMessage(context, cluster), cluster);
    return;
  }
  const answer = await sendUpstream(context, request, { upstream, cluster, body: bytes });
  if (!answer) return;
  const code = answer.statusCode ?? 502;
  context.metrics.upstreamSeconds.observe((performance.now() - request.started) / 1000, {
    cluster,
  });
  countRequest(context, request, cluster, code);
  remember(context, request.info, { body: metadata, cluster, code });
  context.logger.debug("request", {
    verb: request.info.verb,
    path: request.url.pathname,
    // A create's object is named only in its body.
    ...(metadata?.name && !request.info.name ? { name: metadata.name } : {}),
    cluster,
    reason: target.reason,
    code,
    ...auditIdField(answer.headers),
  });
  return relayAnswer(context, request, { answer, cluster, code });
}

/** Why a configured cluster has no upstream: the runtime's reason, or a general one. */
export function unavailableMessage(context: ProxyContext, cluster: string): string {
  return context.unavailableReason?.(cluster) ??
    `Cluster "${cluster}" is not available in this proxy`;
}

/**
 * The upstream's answer once its head arrived, or undefined when the request failed (the client
 * then has its Status). A client that leaves early (a watch it stops reading, say) cancels the
 * upstream request through the relay, which destroys the answer (and its connection).
 */
async function sendUpstream(
  context: ProxyContext,
  request: ProxiedRequest,
  { upstream, cluster, body }: {
    upstream: Upstream;
    cluster: string;
    body?: Uint8Array | undefined;
  },
): Promise<UpstreamResponse | undefined> {
  const { req, res, url } = request;
  try {
    return await upstream.request({
      method: req.method ?? "GET",
      path: url.pathname + url.search,
      headers: forwardedHeaders(req, { upgrade: false, keepImpersonation: true }),
      ...(body ? { body: unmergeBody(body, req.headers["content-type"], cluster) } : {}),
    });
  } catch (error) {
    const failed = upstreamErrorCode(error);
    countRequest(context, request, cluster, failed);
    context.logger.warn("upstream request failed", {
      cluster,
      path: url.pathname,
      error: (error as Error).message,
    });
    writeStatus(res, failed, (error as Error).message, cluster);
    return undefined;
  }
}

/** Writes the answer's head and streams its body; watches and followed logs flush each event. */
function relayAnswer(
  context: ProxyContext,
  request: ProxiedRequest,
  { answer, cluster, code }: { answer: UpstreamResponse; cluster: string; code: number },
): Promise<void> {
  const { res, url, info } = request;
  const headers = responseHeaders(answer, cluster);
  res.writeHead(code, answer.statusMessage ?? "", headers);
  const streaming = info.verb === "watch" || queryFlag(url.searchParams, "follow") === true;
  if (streaming) {
    // Headers go out now; each event is written the moment it arrives.
    res.flushHeaders();
    context.metrics.openWatches.inc({ cluster });
    res.once("close", () => context.metrics.openWatches.dec({ cluster }));
  }
  return relayStream(
    answer,
    res,
    headers["content-length"] !== undefined,
    streaming && context.stopping
      ? { stop: context.stopping, boundary: streamBoundary(String(headers["content-type"])) }
      : {},
  );
}

/** Notes where a named object lives (or no longer does) after a request about it was answered. */
function remember(
  context: ProxyContext,
  info: RequestInfo,
  { body, cluster, code }: { body: BodyMetadata | undefined; cluster: string; code: number },
): void {
  const { index } = context;
  if (!info.isResourceRequest) return;
  // Gone from where we thought: ask again next time.
  if (code === 404 && info.name) index.delete(OwnerIndex.key(info));
  if (code >= 300) return;
  if (info.verb === "create" && body?.name) {
    index.set(OwnerIndex.key({ ...info, name: body.name }), cluster);
  } else if (info.verb === "get" || info.verb === "update" || info.verb === "patch") {
    index.set(OwnerIndex.key(info), cluster);
  } else if (info.verb === "delete" && !info.subresource) index.delete(OwnerIndex.key(info));
}
