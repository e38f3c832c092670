/**
 * The hub's half of one tunnelled exchange (see tunnel/exchange.ts): the caller's request goes
 * onto an agent stream as a head plus body, the member's answer comes back and is relayed to the
 * caller as it arrives.
 */
import type { ProxyRequest, ProxyResponse } from "../http1/mod.ts";
import { type Duplex, Readable } from "node:stream";
import { answerUpgrade, isStreamingTarget, relayStream } from "../forward/mod.ts";
import {
  bodyChunks,
  encodeHead,
  readHead,
  type TunnelHeaders,
  type TunnelResponseHead,
} from "../tunnel/mod.ts";
import { nodeDuplexOf } from "../tunnel/mod.ts";
import type { YamuxStream } from "../tunnel/mod.ts";

/** A request for the member, as the hub prepared it (identity already impersonated). */
export interface AgentRequest {
  method: string;
  path: string;
  headers: TunnelHeaders;
}

/**
 * Sends the request through the stream and relays the answer. Rejects only before the answer's
 * head arrived (the caller then answers with a Status); later failures cut the response.
 */
export async function relayThroughAgent(
  req: ProxyRequest,
  res: ProxyResponse,
  stream: YamuxStream,
  request: AgentRequest,
  onHead: (head: TunnelResponseHead) => void,
): Promise<void> {
  res.once("close", () => {
    if (!res.writableFinished) stream.reset();
  });
  // The head, the body and FIN leave in one write when the body is already here (a GET).
  await stream.writeChunks([encodeHead(request)]);
  // The body goes up while the answer may already come down (a member can refuse early).
  const sent = (async () => {
    for await (const chunk of req as AsyncIterable<Uint8Array>) await stream.writeChunks([chunk]);
    await stream.closeWrite();
  })().catch(() => stream.reset());
  const { head, rest } = await readHead<TunnelResponseHead>(stream, "response");
  onHead(head);
  res.writeHead(head.status, head.statusText, head.headers);
  const hasContentLength = head.headers["content-length"] !== undefined;
  if (hasContentLength && stream.readEnded) {
    // The whole answer came in one frame (the agent sends small ones so): no relay needed.
    if (!res.destroyed) res.end(rest.length > 0 ? rest : undefined);
    return await sent;
  }
  // Streams (watch, logs -f) get their headers at once; other answers go out with their body.
  if (isStreamingTarget(request.path)) res.flushHeaders();
  await relayStream(
    Readable.from(bodyChunks(stream, rest), { objectMode: false }),
    res,
    hasContentLength,
  );
  await sent;
}

/** Sends an upgrade request through the stream; on 101 both sides are joined byte for byte. */
export async function upgradeThroughAgent(
  socket: Duplex,
  head: Uint8Array,
  stream: YamuxStream,
  request: AgentRequest,
): Promise<void> {
  await stream.writeChunks([encodeHead(request)]);
  const { head: answer, rest } = await readHead<TunnelResponseHead>(stream, "response");
  const upgraded = answer.status === 101;
  if (upgraded && head.length > 0) await stream.writeChunks([head]);
  if (!upgraded) await stream.closeWrite().catch(() => {});
  const common = { status: answer.status, statusText: answer.statusText, headers: answer.headers };
  // What came after the answer's head belongs to the upgraded connection or the refusal's body.
  answerUpgrade(
    socket,
    new Uint8Array(),
    upgraded
      ? { ...common, upgraded, socket: nodeDuplexOf(stream), head: rest }
      : { ...common, upgraded, body: bodyChunks(stream, rest) },
  );
}
