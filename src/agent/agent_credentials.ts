/**
 * Where the agent's token comes from: a file (as `mca agent install` mounts it), or the agent's
 * own Secret on the member, where a join token is redeemed for an agent token and the agent
 * token is rotated with an overlap:
 *
 * 1. the next token goes into the Secret first (an update at the resourceVersion read: of
 *    replicas sharing the Secret, one rotates, the others see the result),
 * 2. the hub accepts it, keeping the current one for the overlap,
 * 3. the Secret's token becomes the next one; every replica (this one included) sees it at its
 *    next read and moves its session to it (onTokenChange),
 * 4. after most of the overlap the rotating replica has the hub drop the previous token.
 *
 * A crash between the steps leaves the next token in the Secret; the next start finishes it.
 */
import type { Logger } from "../log/mod.ts";
import { hashToken, newAgentToken } from "../tunnel/mod.ts";
import type { AgentSecret, AgentSecretState } from "./agent_secret.ts";
import { rotationDue } from "./agent_secret.ts";
import { type HubCalls, HubRefusal } from "./hub_calls.ts";

/** The agent's token for dialing the hub. */
export interface AgentCredentials {
  /** The token to dial with; joins first when there is only a join token. */
  token(): Promise<string>;
  /** The hub refused the token: the next token() reads it afresh (finishing a rotation). */
  invalidate(): void;
  /** Stops following the Secret. */
  stop(): void;
}

/** The token in a file, read at every dial (kubelet updates a mounted Secret in place). */
export function fileCredentials(path: string): AgentCredentials {
  return {
    token: async () => {
      const token = (await Deno.readTextFile(path).catch((error) => {
        throw new Error(`Cannot read --token-file "${path}": ${(error as Error).message}`);
      })).trim();
      if (!token) throw new Error(`--token-file "${path}" is empty`);
      return token;
    },
    invalidate() {},
    stop() {},
  };
}

/** What the Secret-backed credentials need. */
export interface SecretCredentialsDeps {
  secret: AgentSecret;
  hub: HubCalls;
  logger: Logger;
  /** 0: never rotate. */
  rotationIntervalMs: number;
  /** How often the Secret is read to see another replica's rotation. */
  pollMs?: number;
  /** Called when the token to dial with changed (the session should move to it). */
  onTokenChange: () => void;
}

/** Credentials kept in the agent's Secret; they follow it until stopped. */
export function secretCredentials(deps: SecretCredentialsDeps): AgentCredentials {
  return new SecretCredentials(deps);
}

class SecretCredentials implements AgentCredentials {
  readonly #since = new Date();
  #current: string | undefined;
  #rotating = false;
  #timers = new Set<ReturnType<typeof setTimeout>>();
  #stopped = false;

  constructor(private readonly deps: SecretCredentialsDeps) {
    this.#schedule();
  }

  async token(): Promise<string> {
    return this.#current ??= await settleToken(this.deps.secret, this.deps.hub, this.deps.logger);
  }

  invalidate(): void {
    if (!this.#rotating) this.#current = undefined;
  }

  stop(): void {
    this.#stopped = true;
    for (const timer of this.#timers) clearTimeout(timer);
  }

  #later(ms: number, work: () => Promise<void>): void {
    if (this.#stopped) return;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      void work();
    }, ms);
    this.#timers.add(timer);
  }

  #schedule(): void {
    const { secret, logger } = this.deps;
    this.#later(
      this.deps.pollMs ?? 5_000,
      () =>
        this.#poll().catch((error) =>
          logger.warn("cannot follow the agent's Secret", {
            secret: secret.name,
            error: (error as Error).message,
          })
        ).finally(() => this.#schedule()),
    );
  }

  /** Follows another replica's rotation, and rotates when it is due. */
  async #poll(): Promise<void> {
    const { secret, logger } = this.deps;
    const state = await secret.read();
    if (this.#current === undefined) return;
    if (state.token && state.token !== this.#current) {
      this.#current = state.token;
      logger.info("agent token changed in the Secret: moving the session to it", {
        secret: secret.name,
      });
      this.deps.onTokenChange();
    }
    const due = rotationDue(state, {
      now: new Date(),
      intervalMs: this.deps.rotationIntervalMs,
      since: this.#since,
    });
    if (due && !this.#rotating) {
      this.#rotating = true;
      await this.#rotate(state).finally(() => this.#rotating = false);
    }
  }

  async #rotate(state: AgentSecretState): Promise<void> {
    const { secret, hub, logger } = this.deps;
    const next = newAgentToken();
    if (!await secret.storeNext(next, state.resourceVersion)) return;
    let overlapSeconds;
    try {
      ({ overlapSeconds } = await hub.rotate(this.#current!, await hashToken(next)));
    } catch (error) {
      logger.warn("agent token rotation failed; the current token stays", {
        error: (error as Error).message,
      });
      // Refused: the hub has not taken it. Otherwise it may have: the next token stays for
      // settleToken(), which a refused dial (invalidate) or the next start runs.
      if (error instanceof HubRefusal) await secret.dropNext();
      return;
    }
    await secret.storeToken(next);
    logger.info("agent token rotated: the hub accepts both until the overlap ends", {
      overlapSeconds,
    });
    this.#current = next;
    this.deps.onTokenChange();
    // Most of the overlap: every replica reads the Secret several times meanwhile.
    this.#later(overlapSeconds * 750, () =>
      hub.dropPrevious(next).then(
        () => logger.info("previous agent token dropped"),
        (error) => logger.warn("cannot drop the previous agent token", { error: error.message }),
      ));
  }
}

/**
 * The token at start: a rotation a crash interrupted is finished, else the stored token is
 * used, else the join token is redeemed (and the agent token stored before it is used).
 */
async function settleToken(secret: AgentSecret, hub: HubCalls, logger: Logger): Promise<string> {
  const state = await secret.read().catch((error) => {
    throw new Error(`Cannot read the agent's Secret "${secret.name}": ${(error as Error).message}`);
  });
  if (state.nextToken) {
    const finished = await finishRotation(state, hub);
    if (finished) {
      await secret.storeToken(finished);
      logger.info("finished an interrupted agent token rotation");
      return finished;
    }
    await secret.dropNext();
  }
  if (state.token) return state.token;
  if (!state.joinToken) {
    throw new Error(
      `The agent's Secret "${secret.name}" holds neither "token" nor "join-token": ` +
        "create a join token on the host with mca agent token create",
    );
  }
  let joined;
  try {
    joined = await hub.join(state.joinToken);
  } catch (error) {
    if (error instanceof HubRefusal) {
      throw new Error(`the hub refused the join token: ${error.message}`);
    }
    throw error;
  }
  await secret.storeToken(joined.token);
  logger.info("joined the hub: the agent token is stored in the agent's Secret", {
    secret: secret.name,
  });
  return joined.token;
}

/** The token an interrupted rotation ends with, if the hub took it (asking again is harmless). */
async function finishRotation(state: AgentSecretState, hub: HubCalls): Promise<string | undefined> {
  const next = state.nextToken!;
  const nextHash = await hashToken(next);
  for (const presented of [next, state.token]) {
    if (!presented) continue;
    try {
      await hub.rotate(presented, nextHash);
      return next;
    } catch (error) {
      if (!(error instanceof HubRefusal)) throw error;
    }
  }
  return undefined;
}
