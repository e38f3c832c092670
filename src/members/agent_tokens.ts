/**
 * Agent tokens: created at registration, stored on the host only as a SHA-256 hash in a Secret
 * `mca-agent-<cluster>` (label `mca.k8s.io/agent-token`), sent by the agent in a header.
 */
import { sameInConstantTime } from "../common/constant_time.ts";
import { toHex } from "../bytes.ts";
import { KubeApiError, type KubeClient } from "../kube/mod.ts";

/** The label that marks agent token Secrets. */
export const AGENT_TOKEN_LABEL = "mca.k8s.io/agent-token";
/** The Secret key holding the hash. */
export const TOKEN_HASH_KEY = "token-sha256";

/** The Secret name for a cluster's agent token. */
export function agentTokenSecretName(cluster: string): string {
  return `mca-agent-${cluster}`;
}

/** Hex SHA-256 of a token. */
export async function hashToken(token: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token));
  return toHex(digest);
}

/** A new random agent token (32 bytes, hex). */
export function newAgentToken(): string {
  return toHex(crypto.getRandomValues(new Uint8Array(32)));
}

/** The registered hash of a cluster's agent token, or undefined when there is none. */
export async function registeredTokenHash(
  client: KubeClient,
  namespace: string,
  cluster: string,
): Promise<string | undefined> {
  try {
    const secret = await client.get<{ data?: Record<string, string> }>(
      `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${
        encodeURIComponent(agentTokenSecretName(cluster))
      }`,
    );
    const data = secret.data?.[TOKEN_HASH_KEY];
    return data ? atob(data) : undefined;
  } catch (error) {
    if (error instanceof KubeApiError && error.code === 404) return undefined;
    throw error;
  }
}

/** Constant-time comparison of two hex hashes. */
export function sameHash(a: string, b: string): boolean {
  return sameInConstantTime(a, b);
}
