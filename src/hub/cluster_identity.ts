/**
 * How requests reach a member, from its Cluster object's `spec.identity`: as the caller
 * (impersonated by the agent; the default, mapped by `spec.identityMapping`) or, only when the
 * Cluster says so explicitly, as the agent's own ServiceAccount (Kopilot's model). Read through
 * a 5 s cache, so a change takes effect within seconds.
 */
import type { KubeClient } from "../kube/mod.ts";
import { type IdentityMapping, parseIdentityMapping } from "./identity_mapping.ts";

/** The two identities a member can see. */
export type ClusterIdentity = "Impersonate" | "AgentServiceAccount";

/** A Cluster's identity mode and how it maps the caller. */
export interface MemberIdentity {
  identity: ClusterIdentity;
  mapping: IdentityMapping;
}

/** Cached lookups of each Cluster's identity mode. */
export class ClusterIdentities {
  #cache = new Map<string, { member: MemberIdentity; until: number }>();

  constructor(
    private readonly host: KubeClient,
    private readonly ttlMs = 5_000,
    private readonly now = Date.now,
  ) {}

  /**
   * The cluster's mode and mapping; anything unreadable or unknown means Impersonate with the
   * default mapping, the narrower ones.
   */
  async of(cluster: string): Promise<MemberIdentity> {
    const cached = this.#cache.get(cluster);
    if (cached && cached.until > this.now()) return cached.member;
    const object = await this.host.get<
      { spec?: { identity?: unknown; identityMapping?: unknown } }
    >(
      `/apis/mca.k8s.io/v1alpha1/clusters/${cluster}`,
    ).catch(() => undefined);
    const member: MemberIdentity = {
      identity: object?.spec?.identity === "AgentServiceAccount"
        ? "AgentServiceAccount"
        : "Impersonate",
      mapping: parseIdentityMapping(object?.spec?.identityMapping),
    };
    this.#cache.set(cluster, { member, until: this.now() + this.ttlMs });
    return member;
  }
}
