/**
 * What the agent does with each tunnel stream: read the hub's request head, send the request
 * to its own API server with its own credentials, keeping the Impersonate-* headers the hub set
 * after checking the caller (the agent's ServiceAccount may only impersonate), and stream the
 * answer back on the same stream.
 */
import type { Logger } from "../log/mod.ts";
import {
  CLUSTER_HEADER,
  isDroppedRequestHeader,
  proxyStatus,
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
  readWholeBody,
  type TunnelHeaders,
  type TunnelRequestHead,
} from "../tunnel/mod.ts";
import { coalescedChunks } from "../tunnel/mod.ts";
import { nodeDuplexOf } from "../tunnel/mod.ts";
import type { YamuxStream } from "../tunnel/mod.ts";

const MAX_BODY_BYTES = 3 * 1024 * 1024;

type Writer = WritableStreamDefaultWriter<Uint8Array>;

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

async function writeStatusHead(writer: Writer, code: number, message: string, cluster: string) {
  const body = new TextEncoder().encode(JSON.stringify(proxyStatus(code, message)));
  await writer.write(encodeHead({
    status: code,
    statusText: "",
    headers: {
      "content-type": "application/json",
      "content-length": String(body.length),
      [CLUSTER_HEADER]: cluster,
    },
  }));
  await writer.write(body);
  await writer.close();
}

/**
 * Passes the member's answer to an upgrade up the stream, as a tunnel head: on 101 the stream
 * and the member's connection are joined (the hub's early bytes in `rest` go to the member).
 */
async function passUpgradeAnswer(
  stream: YamuxStream,
  reader: ReadableStreamDefaultReader<Uint8Array>,
  writer: Writer,
  rest: Uint8Array,
  answer: UpgradeAnswer,
): Promise<void> {
  await writer.write(
    encodeHead({ status: answer.status, statusText: answer.statusText, headers: answer.headers }),
  );
  if (!answer.upgraded) {
    for await (const chunk of answer.body) await writer.write(chunk);
    await writer.close();
    return;
  }
  if (answer.head.length > 0) await writer.write(answer.head);
  if (rest.length > 0) answer.socket.write(rest);
  reader.releaseLock();
  writer.releaseLock();
  spliceSockets(nodeDuplexOf(stream), answer.socket);
}

/** One stream being served: its reader and writer, and whether the answer has begun. */
interface StreamExchange {
  stream: YamuxStream;
  reader: ReadableStreamDefaultReader<Uint8Array>;
  writer: Writer;
  /** Set once the member answered: a failure after that cuts the stream instead of a Status. */
  answered: boolean;
  abort: AbortController;
}

/** Who the agent serves: its member's upstream and the cluster's name. */
interface AgentTarget {
  member: Upstream;
  cluster: string;
  logger: Logger;
}

/** Creates the stream handler for one member cluster. */
export function createAgentHandler(
  member: Upstream,
  cluster: string,
  logger: Logger,
): AgentHandler {
  return (stream) => serveStream(stream, { member, cluster, logger });
}

/** Reads the hub's request head, then upgrades or relays; a failure becomes a Status or a reset. */
async function serveStream(stream: YamuxStream, target: AgentTarget): Promise<void> {
  const exchange: StreamExchange = {
    stream,
    reader: stream.readable.getReader(),
    writer: stream.writable.getWriter(),
    answered: false,
    abort: new AbortController(),
  };
  try {
    const { head, rest } = await readHead<TunnelRequestHead>(exchange.reader, "request");
    if (head.headers.upgrade !== undefined) {
      return await upgradeMember(exchange, head, rest, target);
    }
    await relayToMember(exchange, head, rest, target);
  } catch (error) {
    // The hub went away mid-answer (the stream was reset), or the member failed.
    exchange.abort.abort();
    if (exchange.answered) return void stream.reset();
    target.logger.warn("member request failed", { error: (error as Error).message });
    await writeStatusHead(
      exchange.writer,
      upstreamErrorCode(error),
      (error as Error).message,
      target.cluster,
    ).catch(() => stream.reset());
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
  await passUpgradeAnswer(exchange.stream, exchange.reader, exchange.writer, rest, answer);
}

/** Reads the request's body, sends it to the member and streams the answer back. */
async function relayToMember(
  exchange: StreamExchange,
  head: TunnelRequestHead,
  rest: Uint8Array,
  { member, cluster, logger }: AgentTarget,
): Promise<void> {
  const { stream, reader, writer } = exchange;
  const body = await readWholeBody(bodyChunks(reader, rest), MAX_BODY_BYTES);
  if (body === "too-large") {
    exchange.answered = true;
    const message = `The request body is larger than ${MAX_BODY_BYTES} bytes`;
    return await writeStatusHead(writer, 413, message, cluster);
  }
  const upstream = await member.request({
    ...memberRequest(head),
    ...(body.length > 0 ? { body } : {}),
    signal: exchange.abort.signal,
  });
  logger.debug("request", { method: head.method, path: head.path, code: upstream.statusCode });
  exchange.answered = true;
  await writer.write(encodeHead({
    status: upstream.statusCode ?? 502,
    statusText: upstream.statusMessage ?? "",
    headers: responseHeaders(upstream, cluster),
  }));
  for await (const chunks of coalescedChunks(upstream)) await stream.writeChunks(chunks);
  await writer.close();
}
