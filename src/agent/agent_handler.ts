/**
 * What the agent does with each tunnel stream: read the hub's request head, send the request
 * to its own API server with its own credentials, keeping the Impersonate-* headers the hub set
 * after checking the caller (the agent's ServiceAccount may only impersonate), and stream the
 * answer back on the same stream.
 */
import type { Readable } from "node:stream";
import type { Logger } from "../log/mod.ts";
import type { Histogram } from "../metrics/mod.ts";
import {
  auditIdField,
  CLUSTER_HEADER,
  isDroppedRequestHeader,
  isStreamingTarget,
  proxyStatus,
  readBounded,
  responseHeaders,
  spliceSockets,
  type UpgradeAnswer,
  upgradeAnswerOf,
  type Upstream,
  upstreamErrorCode,
} from "../forward/mod.ts";
import {
  bodyChunks,
  encodeHead,
  readHead,
  type TunnelHeaders,
  type TunnelRequestHead,
} from "../tunnel/mod.ts";
import { coalescedChunks } from "../tunnel/mod.ts";
import { nodeDuplexOf } from "../tunnel/mod.ts";
import type { YamuxStream } from "../tunnel/mod.ts";

const MAX_BODY_BYTES = 3 * 1024 * 1024;

/** Serves one stream the hub opened; never throws. */
export type AgentHandler = (stream: YamuxStream) => Promise<void>;

/** The request headers the member receives: the hub's, minus hop-by-hop ones and credentials. */
function memberHeaders(headers: TunnelHeaders, upgrade: string | undefined): TunnelHeaders {
  const result: TunnelHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!isDroppedRequestHeader(name.toLowerCase())) result[name.toLowerCase()] = value;
  }
  if (upgrade) {
    result.connection = "Upgrade";
    result.upgrade = upgrade;
  }
  return result;
}

async function writeStatusHead(
  stream: YamuxStream,
  code: number,
  message: string,
  cluster: string,
) {
  const body = new TextEncoder().encode(JSON.stringify(proxyStatus(code, message)));
  const head = encodeHead({
    status: code,
    statusText: "",
    headers: {
      "content-type": "application/json",
      "content-length": String(body.length),
      [CLUSTER_HEADER]: cluster,
    },
  });
  await stream.writeChunks([head, body], true);
}

/**
 * Sends the member's answer back: the head, then the body in batches, FIN on the last frame. A
 * streamed answer (watch, logs -f) sends its head and each batch at once; any other holds one
 * batch back, so that a small answer leaves as one frame (head, body and FIN) and the hub finds
 * it whole.
 */
async function relayAnswer(
  stream: YamuxStream,
  head: Uint8Array,
  body: Readable,
  streaming: boolean,
): Promise<void> {
  let held: Uint8Array[] = [head];
  if (streaming) {
    await stream.writeChunks(held);
    held = [];
  }
  for await (const chunks of coalescedChunks(body)) {
    if (streaming) {
      await stream.writeChunks(chunks);
      continue;
    }
    if (held.length > 0) await stream.writeChunks(held);
    held = chunks;
  }
  await stream.writeChunks(held, true);
}

/**
 * Passes the member's answer to an upgrade up the stream, as a tunnel head: on 101 the stream
 * and the member's connection are joined (the hub's early bytes in `rest` go to the member).
 */
async function passUpgradeAnswer(
  stream: YamuxStream,
  rest: Uint8Array,
  answer: UpgradeAnswer,
): Promise<void> {
  await stream.writeChunks([
    encodeHead({ status: answer.status, statusText: answer.statusText, headers: answer.headers }),
  ]);
  if (!answer.upgraded) {
    for await (const chunk of answer.body) await stream.writeChunks([chunk]);
    await stream.closeWrite();
    return;
  }
  if (answer.head.length > 0) await stream.writeChunks([answer.head]);
  if (rest.length > 0) answer.socket.write(rest);
  spliceSockets(nodeDuplexOf(stream), answer.socket);
}

/** Who the agent serves: its member's upstream and the cluster's name. */
interface AgentTarget {
  member: Upstream;
  cluster: string;
  logger: Logger;
  /** Labels: `code`. */
  requestDuration: Histogram | undefined;
}

/** Optional parts of the handler. */
export interface AgentHandlerOptions {
  /** Observes each relayed request's time to the member's response headers, by code. */
  requestDuration?: Histogram;
}

/** One stream being served: whether the answer has begun, and how to stop the member's request. */
interface StreamExchange {
  stream: YamuxStream;
  /** Set once the member answered: a failure after that cuts the stream instead of a Status. */
  answered: boolean;
  abort: AbortController;
  /** When the stream was opened (performance.now()). */
  started: number;
}

/** Creates the stream handler for one member cluster. */
export function createAgentHandler(
  member: Upstream,
  cluster: string,
  logger: Logger,
  options: AgentHandlerOptions = {},
): AgentHandler {
  const target = { member, cluster, logger, requestDuration: options.requestDuration };
  return (stream) => serveStream(stream, target);
}

/** Reads the hub's request head, then upgrades or relays; a failure becomes a Status or a reset. */
async function serveStream(stream: YamuxStream, target: AgentTarget): Promise<void> {
  const exchange: StreamExchange = {
    stream,
    answered: false,
    abort: new AbortController(),
    started: performance.now(),
  };
  try {
    const { head, rest } = await readHead<TunnelRequestHead>(stream, "request");
    if (head.headers.upgrade !== undefined) {
      return await upgradeMember(exchange, head, rest, target);
    }
    await relayToMember(exchange, head, rest, target);
  } catch (error) {
    // The hub went away mid-answer (the stream was reset), or the member failed.
    exchange.abort.abort();
    if (exchange.answered) return void stream.reset();
    target.logger.warn("member request failed", { error: (error as Error).message });
    const code = upstreamErrorCode(error);
    observeDuration(exchange, target, code);
    await writeStatusHead(stream, code, (error as Error).message, target.cluster)
      .catch(() => stream.reset());
  }
}

/** The request for the member: the hub's method, path and headers (minus hop-by-hop ones). */
function memberRequest(head: TunnelRequestHead) {
  const upgrade = head.headers.upgrade;
  return {
    method: head.method,
    path: head.path,
    headers: memberHeaders(head.headers, upgrade === undefined ? undefined : String(upgrade)),
  };
}

/** Sends the upgrade to the member and passes its answer up the stream. */
async function upgradeMember(
  exchange: StreamExchange,
  head: TunnelRequestHead,
  rest: Uint8Array,
  { member, cluster }: AgentTarget,
): Promise<void> {
  const answer = upgradeAnswerOf(await member.upgrade(memberRequest(head)), cluster);
  exchange.answered = true;
  await passUpgradeAnswer(exchange.stream, rest, answer);
}

/** Reads the request's body, sends it to the member and relays the answer back. */
async function relayToMember(
  exchange: StreamExchange,
  head: TunnelRequestHead,
  rest: Uint8Array,
  target: AgentTarget,
): Promise<void> {
  const { member, cluster, logger } = target;
  const { stream } = exchange;
  const body = await readBounded(bodyChunks(stream, rest), MAX_BODY_BYTES);
  if (body === "too-large") {
    exchange.answered = true;
    const message = `The request body is larger than ${MAX_BODY_BYTES} bytes`;
    return await writeStatusHead(stream, 413, message, cluster);
  }
  const upstream = await member.request({
    ...memberRequest(head),
    ...(body.length > 0 ? { body } : {}),
    signal: exchange.abort.signal,
  });
  observeDuration(exchange, target, upstream.statusCode ?? 502);
  logger.debug("request", {
    method: head.method,
    path: head.path,
    code: upstream.statusCode,
    ...auditIdField(upstream.headers),
  });
  exchange.answered = true;
  const answer = encodeHead({
    status: upstream.statusCode ?? 502,
    statusText: upstream.statusMessage ?? "",
    headers: responseHeaders(upstream, cluster),
  });
  await relayAnswer(stream, answer, upstream, isStreamingTarget(head.path));
}

function observeDuration(exchange: StreamExchange, target: AgentTarget, code: number): void {
  target.requestDuration?.observe((performance.now() - exchange.started) / 1000, {
    code: String(code),
  });
}
