/**
 * The hub's agent tokens on the host: which hashes a cluster's agents may connect with, joins
 * (a single-use join token for a Cluster and a new agent token), and rotations with an overlap.
 */
import { KubeApiError, type KubeClient } from "../kube/mod.ts";
import {
  acceptedHashes,
  dropPreviousTokenHash,
  FIELD_MANAGER,
  issueAgentToken,
  type JoinRefusal,
  redeemJoinToken,
  registeredTokenHashes,
  rotateTokenHashes,
} from "../members/mod.ts";

/** What the hub's agent routes and its connect check need from the host. */
export interface AgentTokenStore {
  /** The token hashes a cluster's agents are accepted with now. */
  accepted(cluster: string): Promise<string[]>;
  /** Redeems a join token: the Cluster exists afterwards and the new agent token is returned. */
  join(joinToken: string, cluster: string): Promise<{ token: string } | { refusal: JoinRefusal }>;
  /** Accepts `next` as the cluster's token, the presented one staying accepted for the overlap. */
  rotate(cluster: string, presented: string, next: string): Promise<"rotated" | "done" | "refused">;
  /** Drops the previous token when `presented` is the current one. */
  dropPrevious(cluster: string, presented: string): Promise<boolean>;
  /** How long the previous token stays accepted after a rotation. */
  overlapMs: number;
}

/** The store on the host's Secrets in the hub's namespace. */
export function hostTokenStore(
  client: KubeClient,
  namespace: string,
  overlapMs: number,
): AgentTokenStore {
  return {
    overlapMs,
    accepted: async (cluster) =>
      acceptedHashes(await registeredTokenHashes(client, namespace, cluster), new Date()),
    async join(joinToken, cluster) {
      const refusal = await redeemJoinToken(client, namespace, { token: joinToken, cluster });
      if (refusal) return { refusal };
      await ensureCluster(client, cluster);
      return { token: await issueAgentToken(client, namespace, cluster) };
    },
    rotate: (cluster, presented, next) =>
      rotateTokenHashes(client, namespace, { cluster, presented, next, overlapMs }),
    dropPrevious: (cluster, presented) =>
      dropPreviousTokenHash(client, namespace, { cluster, presented }),
  };
}

/**
 * Creates the Cluster as `mca agent install` would (its field manager, so `mca agent uninstall`
 * removes it); an existing Cluster is left as it is (its identity was chosen by someone).
 */
async function ensureCluster(client: KubeClient, cluster: string): Promise<void> {
  await client.create(
    "/apis/mca.k8s.io/v1alpha1/clusters",
    {
      apiVersion: "mca.k8s.io/v1alpha1",
      kind: "Cluster",
      metadata: { name: cluster },
      spec: { identity: "Impersonate" },
    },
    { fieldManager: FIELD_MANAGER },
  ).catch((error) => {
    if (error instanceof KubeApiError && error.code === 409) return;
    throw error;
  });
}
