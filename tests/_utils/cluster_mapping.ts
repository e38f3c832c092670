/**
 * Opting a member's Cluster in to privileged host identities: tests that reach members with the
 * host admin's static token (group system:masters) need it, since a Cluster drops privileged
 * host groups by default (docs/security.md, "How a host identity is mapped on the member").
 */
import type { TestCluster } from "../../src/testenv/mod.ts";
import { kubectlOk } from "./e2e.ts";

/** Sets `spec.identityMapping.allowPrivileged: true` on the host's Cluster `cluster`. */
export async function allowPrivilegedHostIdentities(
  host: TestCluster,
  cluster: string,
): Promise<void> {
  await kubectlOk(host, [
    "patch",
    "clusters.mca.k8s.io",
    cluster,
    "--type=merge",
    '--patch={"spec":{"identityMapping":{"allowPrivileged":true}}}',
  ]);
}
