/**
 * The proxy's request path: check the app's token, classify, read a write's body (bounded),
 * route, find the owner of a named object when routing cannot tell, forward with the target
 * cluster's credentials, and stream the answer back as it arrives. Written against the request
 * and response of src/http1 rather than a Hono app: the data path streams both ways and takes
 * over upgraded sockets.
 */
import type { IncomingHttpHeaders } from "node:http";
import type { ProxyRequest, ProxyResponse } from "../http1/mod.ts";
import type { Duplex } from "node:stream";
import type { Logger } from "../log/mod.ts";
import { type BodyMetadata, bodyMetadata } from "./body_metadata.ts";
import { OwnerIndex } from "./owner_index.ts";
import type { ProxyConfig } from "./proxy_config.ts";
import type { ProxyMetrics } from "./proxy_metrics.ts";
import { parseRequestInfo, type RequestInfo } from "./request_info.ts";
import { answerUpgrade, queryFlag, upgradeAnswerOf } from "../forward/mod.ts";
import { decideRoute } from "./route.ts";
import { serveMergedList } from "./merge/merged_list.ts";
import { serveMergedWatch } from "./merge/merged_watch.ts";
import { PositionMemory } from "./merge/position_memory.ts";
import { unmergeBody } from "./merge/unmerge_body.ts";
import {
  forwardedHeaders,
  hasBody,
  readBody,
  relayStream,
  responseHeaders,
  splitTarget,
} from "../forward/mod.ts";
import { writeSocketStatus, writeStatus } from "../forward/mod.ts";
import { streamBoundary } from "../forward/mod.ts";
import { type Upstream, upstreamErrorCode, type UpstreamResponse } from "../forward/mod.ts";

/** What the handler needs; `config` and `upstream` are read per request so reloads take effect. */
export interface ProxyHandlerDeps {
  config: () => ProxyConfig;
  upstream: (cluster: string) => Upstream | undefined;
  /** Why a configured cluster has no upstream (say, reached through a hub). */
  unavailableReason?: (cluster: string) => string | undefined;
  /** The per-pod token apps must present. */
  token: string;
  index: OwnerIndex;
  metrics: ProxyMetrics;
  logger: Logger;
  /** Largest request body read for routing; bigger bodies get 413. */
  maxBodyBytes: number;
  /** Aborted when the proxy stops: watches and followed logs end cleanly at their next event. */
  stopping?: AbortSignal;
}

/** The two entry points the HTTP/1.1 server calls. */
export interface ProxyHandler {
  handleRequest(req: ProxyRequest, res: ProxyResponse): void;
  handleUpgrade(req: ProxyRequest, socket: Duplex, head: Uint8Array): void;
}

const CARRIED_UPGRADES = ["websocket", "spdy/3.1"];

/** Creates the handler. */
export function createProxyHandler(deps: ProxyHandlerDeps): ProxyHandler {
  const expected = `Bearer ${deps.token}`;
  const authorized = (headers: IncomingHttpHeaders) =>
    sameInConstantTime(headers.authorization ?? "", expected);

  // Merged reads share one memory of the positions behind the versions their watches issued.
  const merged = { upstream: deps.upstream, logger: deps.logger, positions: new PositionMemory() };

  const unavailable = (cluster: string) =>
    deps.unavailableReason?.(cluster) ?? `Cluster "${cluster}" is not available in this proxy`;

  /** Settles the target cluster, asking candidate clusters when routing cannot tell. */
  const target = async (
    info: RequestInfo,
    headers: IncomingHttpHeaders,
    body: BodyMetadata | undefined,
  ): Promise<
    | { cluster: string; reason: string }
    | { code: number; message: string }
    | { merge: string[]; reason: string; degraded: boolean }
  > => {
    const config = deps.config();
    const decision = decideRoute(config, {
      info,
      header: (name) => headerValue(headers, name),
      ...(body ? { body } : {}),
    });
    if (decision.type === "reject") return decision;
    if (decision.type === "cluster") return decision;
    if (decision.type === "merge") {
      return { merge: decision.clusters, reason: decision.reason, degraded: decision.degraded };
    }
    const key = OwnerIndex.key(info);
    const known = deps.index.get(key);
    if (known && decision.candidates.includes(known)) {
      deps.metrics.lookups.inc({ result: "index" });
      return { cluster: known, reason: "seen there before" };
    }
    const found = await findOwners(info, decision.candidates);
    if (found.length > 1) {
      deps.metrics.lookups.inc({ result: "ambiguous" });
      return {
        code: 409,
        message:
          `${info.resource} "${info.name}"${
            info.namespace ? ` in namespace "${info.namespace}"` : ""
          } exists in ` +
          `several clusters (${
            found.join(", ")
          }); pin it with the label mca.k8s.io/cluster or a route`,
      };
    }
    if (found.length === 1) {
      deps.metrics.lookups.inc({ result: "found" });
      deps.index.set(key, found[0]!);
      return { cluster: found[0]!, reason: `found there among ${decision.candidates.join(", ")}` };
    }
    deps.metrics.lookups.inc({ result: "missing" });
    // Nobody has it: the last candidate (the default) answers, with a genuine NotFound for reads.
    return { cluster: decision.candidates.at(-1)!, reason: "not found in any candidate: default" };
  };

  /** Asks every candidate for the object's metadata, in parallel. */
  const findOwners = async (info: RequestInfo, candidates: string[]): Promise<string[]> => {
    const objectPath = objectPathOf(info);
    const answers = await Promise.all(candidates.map(async (cluster) => {
      const upstream = deps.upstream(cluster);
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
  };

  return {
    handleRequest(req, res) {
      const started = performance.now();
      const url = splitTarget(req.url ?? "/");
      const info = parseRequestInfo(req.method ?? "GET", url.pathname, url.search);
      const count = (cluster: string, code: number) =>
        deps.metrics.requests.inc({ cluster, verb: String(info.verb), code: String(code) });
      if (!authorized(req.headers)) {
        req.resume();
        count("", 401);
        writeStatus(
          res,
          401,
          "Unauthorized: this proxy only accepts the token it wrote for this pod",
        );
        return;
      }
      (async () => {
        const body = hasBody(req) ? await readBody(req, deps.maxBodyBytes) : undefined;
        if (body === "too-large") {
          count("", 413);
          writeStatus(
            res,
            413,
            `The request body is larger than the proxy's limit of ${deps.maxBodyBytes} bytes`,
          );
          return;
        }
        let metadata: BodyMetadata | undefined;
        if (body && body.length > 0 && ["create", "update", "patch"].includes(info.verb)) {
          try {
            metadata = bodyMetadata(body, req.headers["content-type"]);
          } catch (error) {
            count("", 400);
            writeStatus(res, 400, (error as Error).message);
            return;
          }
        }
        const decision = await target(info, req.headers, metadata);
        if ("code" in decision) {
          count("", decision.code);
          writeStatus(res, decision.code, decision.message);
          return;
        }
        if ("merge" in decision) {
          count(decision.merge.join(","), 200);
          deps.logger.debug("merged read", {
            verb: info.verb,
            path: url.pathname,
            clusters: decision.merge,
            reason: decision.reason,
          });
          const serve = info.verb === "watch" ? serveMergedWatch : serveMergedList;
          const options = { clusters: decision.merge, degraded: decision.degraded };
          if (info.verb === "watch") endOnStop(res);
          return await serve(req, res, url.pathname, url.searchParams, options, merged);
        }
        const upstream = deps.upstream(decision.cluster);
        if (!upstream) {
          count(decision.cluster, 503);
          writeStatus(res, 503, unavailable(decision.cluster), decision.cluster);
          return;
        }
        // A client that leaves early (a watch it stops reading, say) cancels the upstream
        // request through the relay below, which destroys the answer (and its connection).
        let upstreamResponse: UpstreamResponse;
        try {
          upstreamResponse = await upstream.request({
            method: req.method ?? "GET",
            path: url.pathname + url.search,
            headers: forwardedHeaders(req, { upgrade: false }),
            ...(body
              ? { body: unmergeBody(body, req.headers["content-type"], decision.cluster) }
              : {}),
          });
        } catch (error) {
          const failed = upstreamErrorCode(error);
          count(decision.cluster, failed);
          deps.logger.warn("upstream request failed", {
            cluster: decision.cluster,
            path: url.pathname,
            error: (error as Error).message,
          });
          writeStatus(res, failed, (error as Error).message, decision.cluster);
          return;
        }
        const code = upstreamResponse.statusCode ?? 502;
        deps.metrics.upstreamSeconds.observe((performance.now() - started) / 1000, {
          cluster: decision.cluster,
        });
        count(decision.cluster, code);
        remember(info, metadata, decision.cluster, code);
        deps.logger.debug("request", {
          verb: info.verb,
          path: url.pathname,
          // A create's object is named only in its body.
          ...(metadata?.name && !info.name ? { name: metadata.name } : {}),
          cluster: decision.cluster,
          reason: decision.reason,
          code,
        });
        const headers = responseHeaders(upstreamResponse, decision.cluster);
        res.writeHead(code, upstreamResponse.statusMessage ?? "", headers);
        const streaming = info.verb === "watch" || queryFlag(url.searchParams, "follow") === true;
        if (streaming) {
          // Headers go out now; each event is written the moment it arrives.
          res.flushHeaders();
          deps.metrics.openWatches.inc({ cluster: decision.cluster });
          res.once("close", () => deps.metrics.openWatches.dec({ cluster: decision.cluster }));
        }
        await relayStream(
          upstreamResponse,
          res,
          headers["content-length"] !== undefined,
          streaming && deps.stopping
            ? { stop: deps.stopping, boundary: streamBoundary(String(headers["content-type"])) }
            : {},
        );
      })().catch((error) => {
        deps.logger.error("proxy request failed", {
          path: url.pathname,
          error: (error as Error).message,
        });
        writeStatus(res, 500, `The proxy failed: ${(error as Error).message}`);
      });
    },

    handleUpgrade(req, socket, head) {
      const url = splitTarget(req.url ?? "/");
      const info = parseRequestInfo(req.method ?? "GET", url.pathname, url.search);
      const protocol = String(req.headers.upgrade ?? "").toLowerCase();
      if (!authorized(req.headers)) {
        writeSocketStatus(
          socket,
          401,
          "Unauthorized: this proxy only accepts the token it wrote for this pod",
        );
        return;
      }
      if (!CARRIED_UPGRADES.includes(protocol)) {
        writeSocketStatus(
          socket,
          400,
          `The proxy cannot carry an upgrade to "${protocol}" (it carries ${
            CARRIED_UPGRADES.join(", ")
          })`,
        );
        return;
      }
      (async () => {
        const decision = await target(info, req.headers, undefined);
        if ("code" in decision) {
          writeSocketStatus(socket, decision.code, decision.message);
          return;
        }
        if ("merge" in decision) {
          writeSocketStatus(socket, 400, "An upgrade cannot be sent to several clusters");
          return;
        }
        const upstream = deps.upstream(decision.cluster);
        if (!upstream) {
          writeSocketStatus(socket, 503, unavailable(decision.cluster));
          return;
        }
        const result = await upstream.upgrade({
          method: req.method ?? "GET",
          path: url.pathname + url.search,
          headers: forwardedHeaders(req, { upgrade: true }),
        });
        const code = result.response.statusCode ?? 502;
        deps.logger.debug("upgrade", {
          path: url.pathname,
          cluster: decision.cluster,
          reason: decision.reason,
          code,
          protocol,
        });
        if (result.upgraded) deps.metrics.openUpgrades.inc({ cluster: decision.cluster });
        answerUpgrade(socket, head, upgradeAnswerOf(result, decision.cluster));
        if (!result.upgraded) return;
        socket.once("close", () => deps.metrics.openUpgrades.dec({ cluster: decision.cluster }));
      })().catch((error) => {
        writeSocketStatus(socket, upstreamErrorCode(error), (error as Error).message);
      });
    },
  };

  /**
   * A merged watch writes whole events, one write each: between two writes is always a
   * boundary, so a stopping proxy ends it at once (its upstream watches close with it).
   */
  function endOnStop(res: ProxyResponse): void {
    const stop = () => {
      if (res.headersSent && !res.writableFinished) res.end();
    };
    if (deps.stopping?.aborted) return stop();
    deps.stopping?.addEventListener("abort", stop, { once: true });
    res.once("close", () => deps.stopping?.removeEventListener("abort", stop));
  }

  function remember(
    info: RequestInfo,
    body: BodyMetadata | undefined,
    cluster: string,
    code: number,
  ): void {
    if (!info.isResourceRequest) return;
    // Gone from where we thought: ask again next time.
    if (code === 404 && info.name) deps.index.delete(OwnerIndex.key(info));
    if (code >= 300) return;
    if (info.verb === "create" && body?.name) {
      deps.index.set(OwnerIndex.key({ ...info, name: body.name }), cluster);
    } else if (info.verb === "get" || info.verb === "update" || info.verb === "patch") {
      deps.index.set(OwnerIndex.key(info), cluster);
    } else if (info.verb === "delete" && !info.subresource) deps.index.delete(OwnerIndex.key(info));
  }
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | null {
  const value = headers[name.toLowerCase()];
  if (value === undefined) return null;
  return Array.isArray(value) ? value.join(", ") : value;
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

/**
 * Compares a presented token with the expected one in time that depends only on the expected
 * length (the expected token is fixed; its length is no secret). Cheaper per request than
 * encoding both for node's timingSafeEqual.
 */
export function sameInConstantTime(given: string, expected: string): boolean {
  let difference = given.length ^ expected.length;
  for (let i = 0; i < expected.length; i++) {
    difference |= (given.charCodeAt(i) | 0) ^ expected.charCodeAt(i);
  }
  return difference === 0;
}
