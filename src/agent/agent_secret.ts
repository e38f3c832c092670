/**
 * The agent's own Secret on the member: the join token it starts with, the agent token it got
 * for it, and during a rotation the next token, written there before the hub hears of it.
 * Replicas share the Secret; writes that must happen once carry the resourceVersion read.
 */
import { KubeApiError, type KubeClient } from "../kube/mod.ts";

/** Keys of the agent's Secret. */
export const AGENT_SECRET_KEYS = {
  token: "token",
  joinToken: "join-token",
  nextToken: "next-token",
} as const;
/** The annotation with the time of the last join or rotation (RFC 3339). */
export const ROTATED_AT_ANNOTATION = "mca.k8s.io/token-rotated-at";

/** What the Secret holds. */
export interface AgentSecretState {
  resourceVersion: string;
  token?: string;
  joinToken?: string;
  nextToken?: string;
  rotatedAt?: Date;
}

interface SecretObject {
  metadata?: { resourceVersion?: string; annotations?: Record<string, string> };
  data?: Record<string, string>;
}

/** Reads the Secret's fields (pure); empty values count as absent. */
export function readAgentSecretState(secret: SecretObject): AgentSecretState {
  const field = (key: string) => {
    const value = secret.data?.[key] ? atob(secret.data[key]).trim() : "";
    return value || undefined;
  };
  const token = field(AGENT_SECRET_KEYS.token);
  const joinToken = field(AGENT_SECRET_KEYS.joinToken);
  const nextToken = field(AGENT_SECRET_KEYS.nextToken);
  const rotated = secret.metadata?.annotations?.[ROTATED_AT_ANNOTATION];
  return {
    resourceVersion: secret.metadata?.resourceVersion ?? "",
    ...(token ? { token } : {}),
    ...(joinToken ? { joinToken } : {}),
    ...(nextToken ? { nextToken } : {}),
    ...(rotated && !Number.isNaN(Date.parse(rotated)) ? { rotatedAt: new Date(rotated) } : {}),
  };
}

/** Whether a rotation is due (pure): never rotated counts from `since` (the agent's start). */
export function rotationDue(
  state: AgentSecretState,
  { now, intervalMs, since }: { now: Date; intervalMs: number; since: Date },
): boolean {
  if (intervalMs <= 0 || state.nextToken) return false;
  return now.getTime() - (state.rotatedAt ?? since).getTime() >= intervalMs;
}

/** The Secret through the member's API. */
export class AgentSecret {
  readonly #path: string;

  constructor(
    private readonly client: KubeClient,
    readonly ref: { namespace: string; name: string },
  ) {
    this.#path = `/api/v1/namespaces/${encodeURIComponent(ref.namespace)}/secrets/${
      encodeURIComponent(ref.name)
    }`;
  }

  /** "namespace/name", for messages. */
  get name(): string {
    return `${this.ref.namespace}/${this.ref.name}`;
  }

  async read(): Promise<AgentSecretState> {
    return readAgentSecretState(await this.client.get<SecretObject>(this.#path));
  }

  /**
   * Stores the next token if the Secret is still at `resourceVersion`; false when a replica
   * wrote first (it is rotating: this one leaves it to it).
   */
  async storeNext(nextToken: string, resourceVersion: string): Promise<boolean> {
    return await this.#patch({
      metadata: { resourceVersion },
      data: { [AGENT_SECRET_KEYS.nextToken]: btoa(nextToken) },
    }).then(() => true, (error) => {
      if (error instanceof KubeApiError && error.code === 409) return false;
      throw error;
    });
  }

  /** Makes `token` the agent token (after a join or a rotation) and forgets a next token. */
  async storeToken(token: string, now: Date = new Date()): Promise<void> {
    await this.#patch({
      metadata: { annotations: { [ROTATED_AT_ANNOTATION]: now.toISOString() } },
      data: { [AGENT_SECRET_KEYS.token]: btoa(token), [AGENT_SECRET_KEYS.nextToken]: null },
    });
  }

  /** Forgets a next token the hub refused. */
  async dropNext(): Promise<void> {
    await this.#patch({ data: { [AGENT_SECRET_KEYS.nextToken]: null } });
  }

  #patch(patch: unknown): Promise<unknown> {
    return this.client.patch(this.#path, patch, "merge", { fieldManager: "mca-agent" });
  }
}
