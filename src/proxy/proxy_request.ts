/**
 * One request through the proxy, as named steps: authorize → read a routable body → settle the
 * target → refuse it, serve a merged read, or forward it (forward_request.ts).
 */
import type { ProxyRequest, ProxyResponse } from "../http1/mod.ts";
import { hasBody, readBody, writeStatus } from "../forward/mod.ts";
import { authorize, UNAUTHORIZED_MESSAGE } from "./authorize.ts";
import { type BodyMetadata, bodyMetadata } from "./body_metadata.ts";
import { forwardRequest } from "./forward_request.ts";
import { serveMergedList } from "./merge/merged_list.ts";
import { serveMergedWatch } from "./merge/merged_watch.ts";
import {
  countRequest,
  type ProxiedRequest,
  proxiedRequest,
  type ProxyContext,
} from "./proxy_context.ts";
import { type ProxyTarget, settleTarget } from "./settle_target.ts";

/** The body as routing and forwarding need it, or why the request is refused. */
export type RoutableBody =
  | { type: "read"; bytes: Uint8Array | undefined; metadata: BodyMetadata | undefined }
  | { type: "reject"; code: number; message: string };

/** A request without a body. */
const NO_BODY: RoutableBody = { type: "read", bytes: undefined, metadata: undefined };

/** A refusal: the request ends with a Status of this code. */
type Refusal = { code: number; message: string };

/** Serves a request; failures become a Status (500 for the proxy's own). */
export function proxyRequest(context: ProxyContext, req: ProxyRequest, res: ProxyResponse): void {
  const request = proxiedRequest(req, res);
  if (!authorize(req.headers, context.authorization)) {
    req.resume();
    return refuse(context, request, { code: 401, message: UNAUTHORIZED_MESSAGE });
  }
  serveAuthorized(context, request).catch((error) => {
    context.logger.error("proxy request failed", {
      path: request.url.pathname,
      error: (error as Error).message,
    });
    writeStatus(res, 500, `The proxy failed: ${(error as Error).message}`);
  });
}

/** The steps after authorization: the body, the target, then the answer. */
async function serveAuthorized(context: ProxyContext, request: ProxiedRequest): Promise<void> {
  // Most requests have no body: they skip the await (a turn of the event loop's microtasks).
  const body = hasBody(request.req) ? await readRoutableBody(context, request) : NO_BODY;
  if (body.type === "reject") return refuse(context, request, body);
  const target: ProxyTarget = await settleTarget(context, request.info, {
    headers: request.req.headers,
    body: body.metadata,
  });
  switch (target.type) {
    case "reject":
      return refuse(context, request, target);
    case "merge":
      return await serveMerged(context, request, target);
    case "cluster":
      return await forwardRequest(context, request, {
        target,
        bytes: body.bytes,
        metadata: body.metadata,
      });
  }
}

/**
 * Reads a body when the request has one, up to the proxy's limit (it is forwarded from memory),
 * and the labels and annotations of a write's object, which routing may follow.
 */
export async function readRoutableBody(
  context: ProxyContext,
  request: ProxiedRequest,
): Promise<RoutableBody> {
  const { req, info } = request;
  const bytes = hasBody(req) ? await readBody(req, context.maxBodyBytes) : undefined;
  if (bytes === "too-large") {
    const message =
      `The request body is larger than the proxy's limit of ${context.maxBodyBytes} bytes`;
    return { type: "reject", code: 413, message };
  }
  if (!bytes || bytes.length === 0 || !["create", "update", "patch"].includes(info.verb)) {
    return { type: "read", bytes, metadata: undefined };
  }
  try {
    return { type: "read", bytes, metadata: bodyMetadata(bytes, req.headers["content-type"]) };
  } catch (error) {
    return { type: "reject", code: 400, message: (error as Error).message };
  }
}

/** Answers with a Status and counts the request against no cluster. */
function refuse(context: ProxyContext, request: ProxiedRequest, refusal: Refusal): void {
  countRequest(context, request, "", refusal.code);
  writeStatus(request.res, refusal.code, refusal.message);
}

/** Serves a LIST or WATCH from all the clusters of a merging route. */
async function serveMerged(
  context: ProxyContext,
  request: ProxiedRequest,
  target: Extract<ProxyTarget, { type: "merge" }>,
): Promise<void> {
  const { req, res, url, info } = request;
  countRequest(context, request, target.clusters.join(","), 200);
  context.logger.debug("merged read", {
    verb: info.verb,
    path: url.pathname,
    clusters: target.clusters,
    reason: target.reason,
  });
  const serve = info.verb === "watch" ? serveMergedWatch : serveMergedList;
  const options = { clusters: target.clusters, degraded: target.degraded };
  if (info.verb === "watch") endOnStop(context, res);
  await serve(req, res, url.pathname, url.searchParams, options, context.merged);
}

/**
 * A merged watch writes whole events, one write each: between two writes is always a
 * boundary, so a stopping proxy ends it at once (its upstream watches close with it).
 */
function endOnStop(context: ProxyContext, res: ProxyResponse): void {
  const { stopping } = context;
  const stop = () => {
    if (res.headersSent && !res.writableFinished) res.end();
  };
  if (stopping?.aborted) return stop();
  stopping?.addEventListener("abort", stop, { once: true });
  res.once("close", () => stopping?.removeEventListener("abort", stop));
}
