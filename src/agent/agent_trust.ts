/**
 * The hub CAs an agent trusts. It starts from the CA pinned at install (--hub-ca-file checked
 * against --hub-ca-pin) or, when its own Secret holds a set it learned since that install, from
 * that set. It learns a new set only over the trust stream of a session whose hub it verified
 * against the set it holds, and only a set that keeps one CA it already trusts; it stores the
 * set in its Secret (so a restart after the hub switched CA still connects), then acknowledges.
 */
import type { Logger } from "../log/mod.ts";
import {
  computeCaPin,
  continuesTrust,
  sameTrustSet,
  trustBundle,
  type TrustedCa,
  trustPins,
  trustSetOf,
} from "../pki/mod.ts";
import {
  encodeTrustMessage,
  readTrustMessages,
  type YamuxSession,
  type YamuxStream,
} from "../tunnel/mod.ts";

/** A learned set as stored, with the install pin it was learned from. */
export interface LearnedTrust {
  bundlePem: string;
  /** The --hub-ca-pin in effect when it was learned: a new install (another pin) supersedes it. */
  basisPin: string;
}

/** Where the learned set is kept between restarts (the agent's Secret on the member). */
export interface TrustStore {
  read(): Promise<LearnedTrust | undefined>;
  write(learned: LearnedTrust): Promise<void>;
}

/** The set in force, and how it changes. */
export class AgentTrust {
  #set: TrustedCa[];
  #persisted: boolean;

  private constructor(
    set: TrustedCa[],
    private readonly basisPin: string,
    private readonly store: TrustStore | undefined,
  ) {
    this.#set = set;
    // The install's pin is persistent by itself (the member's manifests hold it).
    this.#persisted = true;
  }

  /** The set at start: the learned one when it follows the install in force, else the pinned CA. */
  static async load(
    pinned: { certificatePem: string; pin: string; source: string },
    { store, logger }: { store?: TrustStore; logger: Logger },
  ): Promise<AgentTrust> {
    const actual = await computeCaPin(pinned.certificatePem);
    if (actual !== pinned.pin) {
      throw new Error(
        `The hub CA in "${pinned.source}" does not match --hub-ca-pin (it is ${actual}); refusing to connect`,
      );
    }
    const installed = await trustSetOf(pinned.certificatePem);
    const learned = await store?.read();
    if (learned && learned.basisPin === pinned.pin) {
      const set = await trustSetOf(learned.bundlePem);
      logger.info("trusting the hub CAs learned earlier", { pins: trustPins(set).join(",") });
      return new AgentTrust(set, pinned.pin, store);
    }
    if (learned) logger.info("the hub CA pin changed since the CAs were learned: using the pin");
    return new AgentTrust(installed.slice(0, 1), pinned.pin, store);
  }

  /** The CAs to verify the hub against, as one PEM bundle. */
  get bundle(): string {
    return trustBundle(this.#set);
  }

  get pins(): string[] {
    return trustPins(this.#set);
  }

  /** Whether the set in force is stored where a restart finds it. */
  get persisted(): boolean {
    return this.#persisted;
  }

  /**
   * Takes the set a verified hub sent. Throws (and keeps the set in force) when it shares no
   * CA with it; stores it when there is a store (a failure to store is reported, not fatal).
   */
  async learn(casPem: string[], logger: Logger): Promise<void> {
    const offered = await trustSetOf(casPem.join(""));
    if (sameTrustSet(this.#set, offered)) return;
    if (!continuesTrust(this.#set, offered)) {
      throw new Error("the hub offered CAs that share none with those this agent trusts");
    }
    this.#set = offered;
    this.#persisted = false;
    if (!this.store) {
      logger.warn("learned hub CAs are kept in memory only: set --hub-trust-secret");
      return;
    }
    try {
      await this.store.write({ bundlePem: trustBundle(offered), basisPin: this.basisPin });
      this.#persisted = true;
    } catch (error) {
      logger.warn("cannot store the learned hub CAs", { error: (error as Error).message });
    }
    logger.info("learned the hub CAs", {
      pins: this.pins.join(","),
      persisted: this.#persisted,
    });
  }
}

/** Each session's open trust stream (it lives as long as the session). */
const trustStreams = new WeakMap<YamuxSession, YamuxStream>();

/** Streams of a session that carry requests: all but its trust stream (drain and metrics). */
export function requestStreamCount(session: YamuxSession): number {
  return session.streamCount - (trustStreams.has(session) ? 1 : 0);
}

/** Opens the session's trust stream and serves it until the session ends. */
export async function serveTrustStream(
  session: YamuxSession,
  trust: AgentTrust,
  logger: Logger,
): Promise<void> {
  let stream: YamuxStream;
  try {
    stream = await session.open();
  } catch {
    return; // the session is already going
  }
  const acknowledge = () =>
    stream.writeChunks([
      encodeTrustMessage({ type: "held-pins", pins: trust.pins, persisted: trust.persisted }),
    ]);
  trustStreams.set(session, stream);
  try {
    await acknowledge();
    for await (const message of readTrustMessages(stream)) {
      if (message.type !== "hub-cas") throw new Error("trust channel: unexpected message");
      await trust.learn(message.cas, logger);
      await acknowledge();
    }
  } catch (error) {
    if (session.isClosed) return;
    logger.warn("trust channel failed", { error: (error as Error).message });
    stream.reset();
  } finally {
    trustStreams.delete(session);
  }
}
