/**
 * How requests reach a member, from its Cluster object's `spec.identity`: as the caller
 * (impersonated by the agent; the default) or, only when the Cluster says so explicitly, as the
 * agent's own ServiceAccount (Kopilot's model). Read through a 5 s cache, so a
 * change takes effect within seconds.
 */
import type { KubeClient } from "../kube/mod.ts";

/** The two identities a member can see. */
export type ClusterIdentity = "Impersonate" | "AgentServiceAccount";

/** Cached lookups of each Cluster's identity mode. */
export class ClusterIdentities {
  #cache = new Map<string, { identity: ClusterIdentity; until: number }>();

  constructor(
    private readonly host: KubeClient,
    private readonly ttlMs = 5_000,
    private readonly now = Date.now,
  ) {}

  /** The cluster's mode; anything unreadable or unknown means Impersonate, the narrower one. */
  async of(cluster: string): Promise<ClusterIdentity> {
    const cached = this.#cache.get(cluster);
    if (cached && cached.until > this.now()) return cached.identity;
    const object = await this.host.get<{ spec?: { identity?: unknown } }>(
      `/apis/mca.k8s.io/v1alpha1/clusters/${cluster}`,
    ).catch(() => undefined);
    const identity: ClusterIdentity = object?.spec?.identity === "AgentServiceAccount"
      ? "AgentServiceAccount"
      : "Impersonate";
    this.#cache.set(cluster, { identity, until: this.now() + this.ttlMs });
    return identity;
  }
}
