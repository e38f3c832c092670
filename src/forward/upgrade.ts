/**
 * Carrying an upgrade (exec, attach, port-forward) from whoever answered it to the client's
 * socket: the answer's head, then either the connections joined byte for byte (101) or the
 * answer's body with the connection closed after it (a refusal). The sidecar, the hub (from a
 * peer replica or an agent) and the agent (from its member) all answer through this module.
 */
import type { IncomingMessage } from "node:http";
import { type Duplex, Readable } from "node:stream";
import { encodeResponseHead, headersFromRaw } from "../http1/mod.ts";
import { CLUSTER_HEADER, responseHeaders } from "./headers.ts";
import { spliceSockets } from "./relay.ts";
import type { UpgradeResult } from "./upstream.ts";

/** An upstream's answer to an upgrade request, as it is passed on. */
export type UpgradeAnswer =
  & {
    status: number;
    statusText: string;
    /** The headers to pass on: a refusal's lose their hop-by-hop ones; both name the cluster. */
    headers: Record<string, string | string[]>;
  }
  & (
    | {
      upgraded: true;
      /** The upgraded connection, and what it sent right after its head. */
      socket: Duplex;
      head: Uint8Array;
    }
    | { upgraded: false; body: AsyncIterable<Uint8Array> }
  );

/** The answer an upstream gave (see Upstream.upgrade), for the cluster that gave it. */
export function upgradeAnswerOf(result: UpgradeResult, cluster: string): UpgradeAnswer {
  const base = {
    status: result.response.statusCode ?? 502,
    statusText: result.response.statusMessage ?? "",
    headers: upgradeAnswerHeaders(result.response, cluster, result.upgraded),
  };
  return result.upgraded
    ? { ...base, upgraded: true, socket: result.socket, head: result.head }
    : { ...base, upgraded: false, body: result.response };
}

/** An upgrade answer's headers: all of a 101's (its handshake), a refusal's minus hop-by-hop. */
export function upgradeAnswerHeaders(
  response: Pick<IncomingMessage, "rawHeaders">,
  cluster: string,
  upgraded: boolean,
): Record<string, string | string[]> {
  if (!upgraded) return responseHeaders(response, cluster);
  const headers = headersFromRaw(response.rawHeaders);
  headers[CLUSTER_HEADER] = cluster;
  return headers;
}

/**
 * Writes the answer to the client's socket. On 101 the client's early bytes (`clientHead`, sent
 * after its request head) go upstream and the two connections are joined; a refusal's body is
 * copied and the socket closed, as the answer's framing ends with the connection.
 */
export function answerUpgrade(
  socket: Duplex,
  clientHead: Uint8Array,
  answer: UpgradeAnswer,
): void {
  const headers = answer.upgraded ? answer.headers : { ...answer.headers, connection: "close" };
  socket.write(encodeResponseHead(answer.status, answer.statusText, headers));
  if (!answer.upgraded) {
    const body = answer.body instanceof Readable ? answer.body : Readable.from(answer.body);
    body.pipe(socket);
    return;
  }
  if (answer.head.length > 0) socket.write(answer.head);
  if (clientHead.length > 0) answer.socket.write(clientHead);
  spliceSockets(socket, answer.socket);
}
