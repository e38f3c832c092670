/**
 * What the agent does with each tunnel stream: read the hub's request head, send the request
 * to its own API server with its own credentials, keeping the Impersonate-* headers the hub set
 * after checking the caller (the agent's ServiceAccount may only impersonate), and stream the
 * answer back on the same stream.
 */
import type { Readable } from "node:stream";
import type { Logger } from "../log/mod.ts";
import {
  CLUSTER_HEADER,
  isDroppedRequestHeader,
  isStreamingTarget,
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

/** Creates the stream handler for one member cluster. */
export function createAgentHandler(
  member: Upstream,
  cluster: string,
  logger: Logger,
): AgentHandler {
  return async (stream) => {
    let answered = false;
    const abort = new AbortController();
    try {
      const { head, rest } = await readHead<TunnelRequestHead>(stream, "request");
      const upgrade = head.headers.upgrade;
      const request = {
        method: head.method,
        path: head.path,
        headers: memberHeaders(head.headers, upgrade === undefined ? undefined : String(upgrade)),
      };
      if (upgrade !== undefined) {
        const answer = upgradeAnswerOf(await member.upgrade(request), cluster);
        answered = true;
        await passUpgradeAnswer(stream, rest, answer);
        return;
      }
      const body = await readWholeBody(bodyChunks(stream, rest), MAX_BODY_BYTES);
      if (body === "too-large") {
        answered = true;
        await writeStatusHead(
          stream,
          413,
          `The request body is larger than ${MAX_BODY_BYTES} bytes`,
          cluster,
        );
        return;
      }
      const upstream = await member.request({
        ...request,
        ...(body.length > 0 ? { body } : {}),
        signal: abort.signal,
      });
      logger.debug("request", { method: head.method, path: head.path, code: upstream.statusCode });
      answered = true;
      const answer = encodeHead({
        status: upstream.statusCode ?? 502,
        statusText: upstream.statusMessage ?? "",
        headers: responseHeaders(upstream, cluster),
      });
      await relayAnswer(stream, answer, upstream, isStreamingTarget(head.path));
    } catch (error) {
      // The hub went away mid-answer (the stream was reset), or the member failed.
      abort.abort();
      if (answered) return void stream.reset();
      logger.warn("member request failed", { error: (error as Error).message });
      await writeStatusHead(stream, upstreamErrorCode(error), (error as Error).message, cluster)
        .catch(() => stream.reset());
    }
  };
}
