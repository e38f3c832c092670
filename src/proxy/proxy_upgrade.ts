/**
 * One upgrade (exec, attach, port-forward) through the proxy, as named steps: authorize → check
 * the protocol → settle the target → carry the upgrade to its cluster (forward/upgrade.ts writes
 * the answer: 101 and the connections joined, or the refusal).
 */
import type { Duplex } from "node:stream";
import type { ProxyRequest } from "../http1/mod.ts";
import {
  answerUpgrade,
  auditIdField,
  forwardedHeaders,
  splitTarget,
  upgradeAnswerOf,
  type Upstream,
  upstreamErrorCode,
  writeSocketStatus,
} from "../forward/mod.ts";
import { authorize, UNAUTHORIZED_MESSAGE } from "./authorize.ts";
import { unavailableMessage } from "./forward_request.ts";
import type { ProxyContext } from "./proxy_context.ts";
import { parseRequestInfo, type RequestInfo } from "./request_info.ts";
import { settleTarget } from "./settle_target.ts";

/** The protocols the proxy carries: WebSocket (kubectl ≥ 1.30) and SPDY. */
const CARRIED_UPGRADES = ["websocket", "spdy/3.1"];

/** One upgrade request on its way through the steps. */
interface ProxiedUpgrade {
  req: ProxyRequest;
  socket: Duplex;
  /** What the client sent after its request head. */
  head: Uint8Array;
  url: ReturnType<typeof splitTarget>;
  info: RequestInfo;
  protocol: string;
}

/** Carries an upgrade to its cluster; refusals and failures are written to the socket. */
export function proxyUpgrade(
  context: ProxyContext,
  req: ProxyRequest,
  socket: Duplex,
  head: Uint8Array,
): void {
  const url = splitTarget(req.url ?? "/");
  const info = parseRequestInfo(req.method ?? "GET", url.pathname, url.search);
  const protocol = String(req.headers.upgrade ?? "").toLowerCase();
  if (!authorize(req.headers, context.authorization)) {
    return writeSocketStatus(socket, 401, UNAUTHORIZED_MESSAGE);
  }
  if (!CARRIED_UPGRADES.includes(protocol)) {
    return writeSocketStatus(
      socket,
      400,
      `The proxy cannot carry an upgrade to "${protocol}" (it carries ${
        CARRIED_UPGRADES.join(", ")
      })`,
    );
  }
  const upgrade: ProxiedUpgrade = { req, socket, head, url, info, protocol };
  settleUpgrade(context, upgrade).catch((error) => {
    writeSocketStatus(socket, upstreamErrorCode(error), (error as Error).message);
  });
}

/** Settles the upgrade's cluster (one: an upgrade is never merged) and carries it there. */
async function settleUpgrade(context: ProxyContext, upgrade: ProxiedUpgrade): Promise<void> {
  const { socket } = upgrade;
  const target = await settleTarget(context, upgrade.info, { headers: upgrade.req.headers });
  if (target.type === "reject") return writeSocketStatus(socket, target.code, target.message);
  if (target.type === "merge") {
    return writeSocketStatus(socket, 400, "An upgrade cannot be sent to several clusters");
  }
  const upstream = context.upstream(target.cluster);
  if (!upstream) {
    return writeSocketStatus(socket, 503, unavailableMessage(context, target.cluster));
  }
  await carryUpgrade(context, upgrade, {
    upstream,
    cluster: target.cluster,
    reason: target.reason,
  });
}

/** Sends the upgrade upstream and passes its answer on; a 101's connection counts while open. */
async function carryUpgrade(
  context: ProxyContext,
  upgrade: ProxiedUpgrade,
  { upstream, cluster, reason }: { upstream: Upstream; cluster: string; reason: string },
): Promise<void> {
  const { req, socket, url } = upgrade;
  const result = await upstream.upgrade({
    method: req.method ?? "GET",
    path: url.pathname + url.search,
    headers: forwardedHeaders(req, { upgrade: true, keepImpersonation: true }),
  });
  const code = result.response.statusCode ?? 502;
  context.logger.debug("upgrade", {
    path: url.pathname,
    cluster,
    reason,
    code,
    protocol: upgrade.protocol,
    ...auditIdField(result.response.headers),
  });
  if (result.upgraded) context.metrics.openUpgrades.inc({ cluster });
  answerUpgrade(socket, upgrade.head, upgradeAnswerOf(result, cluster));
  if (!result.upgraded) return;
  socket.once("close", () => context.metrics.openUpgrades.dec({ cluster }));
}
