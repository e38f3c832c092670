/**
 * Agent tokens: created at registration, stored on the host only as a SHA-256 hash in a Secret
 * `mca-agent-<cluster>` (label `mca.k8s.io/agent-token`), sent by the agent in a header.
 * During a rotation the Secret also holds the previous hash and when it stops being accepted.
 */
import { sameInConstantTime } from "../common/constant_time.ts";
import { hashToken, newAgentToken } from "../tunnel/mod.ts";
import { KubeApiError, type KubeClient } from "../kube/mod.ts";

export { hashToken, newAgentToken };

/** The label that marks agent token Secrets. */
export const AGENT_TOKEN_LABEL = "mca.k8s.io/agent-token";
/** The Secret key holding the hash. */
export const TOKEN_HASH_KEY = "token-sha256";
/** The Secret key holding the previous hash during a rotation's overlap. */
export const PREVIOUS_HASH_KEY = "previous-token-sha256";
/** The Secret key holding the end of the overlap (RFC 3339). */
export const PREVIOUS_EXPIRES_KEY = "previous-expires-at";

/** The hashes a cluster's agent token Secret holds. */
export interface AgentTokenHashes {
  current: string;
  previous?: { hash: string; expiresAt: Date };
}

/** The Secret name for a cluster's agent token. */
export function agentTokenSecretName(cluster: string): string {
  return `mca-agent-${cluster}`;
}

/** Reads a token Secret's data (base64 values); undefined without a current hash. */
export function readAgentTokenHashes(
  data: Record<string, string> | undefined,
): AgentTokenHashes | undefined {
  const field = (key: string) => data?.[key] ? atob(data[key]) : undefined;
  const current = field(TOKEN_HASH_KEY);
  if (!current) return undefined;
  const previous = field(PREVIOUS_HASH_KEY);
  const expires = field(PREVIOUS_EXPIRES_KEY);
  return {
    current,
    ...(previous && expires ? { previous: { hash: previous, expiresAt: new Date(expires) } } : {}),
  };
}

/** The hashes accepted now: the current one, and the previous one until its overlap ends. */
export function acceptedHashes(hashes: AgentTokenHashes | undefined, now: Date): string[] {
  if (!hashes) return [];
  const { current, previous } = hashes;
  return previous && now < previous.expiresAt ? [current, previous.hash] : [current];
}

/** What a rotation request leads to (pure). */
export type RotationPlan =
  | { kind: "rotate"; hashes: AgentTokenHashes }
  | { kind: "done" }
  | { kind: "refused" };

/**
 * Plans a rotation asked with the token hashed `presented` towards `next`: the current token
 * may rotate; the previous one only repeats a rotation that already happened (an agent that
 * stopped between the hub's answer and its own Secret), which changes nothing.
 */
export function planRotation(
  hashes: AgentTokenHashes | undefined,
  request: { presented: string; next: string; now: Date; overlapMs: number },
): RotationPlan {
  if (!hashes) return { kind: "refused" };
  const { presented, next, now, overlapMs } = request;
  if (sameHash(presented, hashes.current)) {
    if (next === hashes.current) return { kind: "done" };
    return {
      kind: "rotate",
      hashes: {
        current: next,
        previous: { hash: hashes.current, expiresAt: new Date(now.getTime() + overlapMs) },
      },
    };
  }
  const previous = hashes.previous;
  if (previous && now < previous.expiresAt && sameHash(presented, previous.hash)) {
    return next === hashes.current ? { kind: "done" } : { kind: "refused" };
  }
  return { kind: "refused" };
}

/** The token Secret's data for hashes (pure). */
export function agentTokenData(hashes: AgentTokenHashes): Record<string, string> {
  return {
    [TOKEN_HASH_KEY]: btoa(hashes.current),
    ...(hashes.previous
      ? {
        [PREVIOUS_HASH_KEY]: btoa(hashes.previous.hash),
        [PREVIOUS_EXPIRES_KEY]: btoa(hashes.previous.expiresAt.toISOString()),
      }
      : {}),
  };
}

function secretPath(namespace: string, cluster?: string): string {
  const base = `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets`;
  return cluster === undefined
    ? base
    : `${base}/${encodeURIComponent(agentTokenSecretName(cluster))}`;
}

type TokenSecret = { metadata: Record<string, unknown>; data?: Record<string, string> };

async function readTokenSecret(
  client: KubeClient,
  namespace: string,
  cluster: string,
): Promise<TokenSecret | undefined> {
  try {
    return await client.get<TokenSecret>(secretPath(namespace, cluster));
  } catch (error) {
    if (error instanceof KubeApiError && error.code === 404) return undefined;
    throw error;
  }
}

/** The hashes of a cluster's agent tokens on the host, or undefined when there are none. */
export async function registeredTokenHashes(
  client: KubeClient,
  namespace: string,
  cluster: string,
): Promise<AgentTokenHashes | undefined> {
  return readAgentTokenHashes((await readTokenSecret(client, namespace, cluster))?.data);
}

/** The registered hash of a cluster's current agent token, or undefined when there is none. */
export async function registeredTokenHash(
  client: KubeClient,
  namespace: string,
  cluster: string,
): Promise<string | undefined> {
  return (await registeredTokenHashes(client, namespace, cluster))?.current;
}

/**
 * Stores `hashes` as the cluster's tokens, replacing whatever was there (a previous token
 * included): an update carrying the resourceVersion read, or a create. Returns false when
 * another writer came first (409), so the caller reads again.
 */
async function writeTokenHashes(
  client: KubeClient,
  namespace: string,
  cluster: string,
  { read, hashes }: { read: TokenSecret | undefined; hashes: AgentTokenHashes },
): Promise<boolean> {
  const secret = {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name: agentTokenSecretName(cluster),
      namespace,
      // The version read: a concurrent writer makes this update a 409.
      ...(read ? { resourceVersion: read.metadata.resourceVersion } : {}),
      labels: {
        ...(read?.metadata.labels as Record<string, string> | undefined ?? {}),
        [AGENT_TOKEN_LABEL]: "true",
      },
    },
    type: "Opaque",
    data: agentTokenData(hashes),
  };
  const writing = read
    ? client.replace(secretPath(namespace, cluster), secret)
    : client.create(secretPath(namespace), secret);
  return await writing.then(() => true, (error) => {
    if (error instanceof KubeApiError && (error.code === 409)) return false;
    throw error;
  });
}

/** Registers a new agent token for a cluster (any earlier one stops being accepted); returns it. */
export async function issueAgentToken(
  client: KubeClient,
  namespace: string,
  cluster: string,
): Promise<string> {
  const token = newAgentToken();
  const hashes = { current: await hashToken(token) };
  for (let attempt = 0; attempt < 5; attempt++) {
    const read = await readTokenSecret(client, namespace, cluster);
    if (await writeTokenHashes(client, namespace, cluster, { read, hashes })) return token;
  }
  throw new Error(`Cannot store the agent token of "${cluster}": the Secret keeps changing`);
}

/** Applies a rotation request on the host, retrying when another writer came first. */
export async function rotateTokenHashes(
  client: KubeClient,
  namespace: string,
  request: { cluster: string; presented: string; next: string; overlapMs: number },
): Promise<"rotated" | "done" | "refused"> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const read = await readTokenSecret(client, namespace, request.cluster);
    const plan = planRotation(readAgentTokenHashes(read?.data), { ...request, now: new Date() });
    if (plan.kind !== "rotate") return plan.kind;
    const written = await writeTokenHashes(client, namespace, request.cluster, {
      read,
      hashes: plan.hashes,
    });
    if (written) return "rotated";
  }
  throw new Error(
    `Cannot rotate the agent token of "${request.cluster}": the Secret keeps changing`,
  );
}

/** Drops the previous token once the caller proves the current one; false when it does not. */
export async function dropPreviousTokenHash(
  client: KubeClient,
  namespace: string,
  request: { cluster: string; presented: string },
): Promise<boolean> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const read = await readTokenSecret(client, namespace, request.cluster);
    const hashes = readAgentTokenHashes(read?.data);
    if (!hashes || !sameHash(request.presented, hashes.current)) return false;
    if (!hashes.previous) return true;
    const written = await writeTokenHashes(client, namespace, request.cluster, {
      read,
      hashes: { current: hashes.current },
    });
    if (written) return true;
  }
  throw new Error(
    `Cannot drop the previous token of "${request.cluster}": the Secret keeps changing`,
  );
}

/** Constant-time comparison of two hex hashes. */
export function sameHash(a: string, b: string): boolean {
  return sameInConstantTime(a, b);
}
