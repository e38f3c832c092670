/**
 * The trust channel of tunnel version 2 (pure framing): once the session is up, the agent opens
 * one stream to the hub and both ends exchange messages on it for the session's life. The hub
 * sends the set of CAs agents must trust (current and, during a rollover, next or previous);
 * the agent answers with the pins it holds and has persisted (its acknowledgement). Messages
 * are length-prefixed JSON like the request heads. Pins are recomputed by the receiver from
 * the certificates; the channel only carries certificates, never trust decisions.
 */
import { concatBytes } from "../bytes.ts";
import type { ChunkReader } from "./exchange.ts";

/** The tunnel version from which the agent opens the trust stream. */
export const TRUST_CHANNEL_VERSION = 2;

/** Hub → agent: the CA certificates (PEM) agents trust from now on, newest first. */
export interface HubCasMessage {
  type: "hub-cas";
  cas: string[];
}

/** Agent → hub: the pins the agent trusts and has persisted (empty when it cannot persist). */
export interface HeldPinsMessage {
  type: "held-pins";
  pins: string[];
  /** Whether the pins are stored where a restart finds them. */
  persisted: boolean;
}

/** Any message of the trust channel. */
export type TrustMessage = HubCasMessage | HeldPinsMessage;

// A set of a few CA certificates is a few KiB; a peer announcing more is broken or hostile.
const MAX_MESSAGE_BYTES = 64 * 1024;
const MAX_ITEMS = 8;

/** A message as it goes on the stream: 4-byte big-endian length, then UTF-8 JSON. */
export function encodeTrustMessage(message: TrustMessage): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(message));
  const out = new Uint8Array(4 + json.length);
  new DataView(out.buffer).setUint32(0, json.length);
  out.set(json, 4);
  return out;
}

/** Checks a decoded message's shape; throws a clear error naming what is wrong. */
export function parseTrustMessage(bytes: Uint8Array): TrustMessage {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new Error("trust channel: a message is not JSON");
  }
  const message = value as
    | { type?: unknown; cas?: unknown; pins?: unknown; persisted?: unknown }
    | null;
  const strings = (list: unknown): list is string[] =>
    Array.isArray(list) && list.length <= MAX_ITEMS && list.every((s) => typeof s === "string");
  if (message?.type === "hub-cas" && strings(message.cas) && message.cas.length > 0) {
    return { type: "hub-cas", cas: message.cas };
  }
  if (
    message?.type === "held-pins" && strings(message.pins) &&
    typeof message.persisted === "boolean"
  ) {
    return { type: "held-pins", pins: message.pins, persisted: message.persisted };
  }
  throw new Error("trust channel: a message is malformed");
}

/** Reads the messages of a stream one by one until it ends; fails on a malformed one. */
export async function* readTrustMessages(reader: ChunkReader): AsyncGenerator<TrustMessage> {
  let buffered: Uint8Array = new Uint8Array(0);
  while (true) {
    while (buffered.length >= 4) {
      const length = new DataView(buffered.buffer, buffered.byteOffset, 4).getUint32(0);
      if (length > MAX_MESSAGE_BYTES) {
        throw new Error(`trust channel: a message of ${length} bytes is over the limit`);
      }
      if (buffered.length < 4 + length) break;
      yield parseTrustMessage(buffered.subarray(4, 4 + length));
      buffered = buffered.slice(4 + length);
    }
    const { value, done } = await reader.read();
    if (done) return;
    buffered = buffered.length === 0 ? value : concatBytes([buffered, value]);
  }
}
