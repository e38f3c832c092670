/**
 * How a host identity appears on a member, per Cluster (`spec.identityMapping`): host
 * ServiceAccounts arrive prefixed so they never act as the member's own ServiceAccounts,
 * privileged host users and groups (`system:*`, kubeadm's admin group) are never passed unless
 * the Cluster allows it, and users and groups can carry a prefix. Pure.
 */
import { serviceAccountOf } from "./requested_impersonation.ts";
import type { UserInfo } from "./user_access.ts";

/** A Cluster's mapping, resolved (every field set). */
export interface IdentityMapping {
  /** Prefix of host ServiceAccount users and their `system:serviceaccounts*` groups; "" passes them unchanged. */
  serviceAccountPrefix: string;
  /** Prefix of other users. */
  userPrefix: string;
  /** Prefix of other groups. */
  groupPrefix: string;
  /** Pass privileged host users and groups unchanged (otherwise users are refused, groups dropped). */
  allowPrivileged: boolean;
}

/** The mapping of a Cluster that says nothing. */
export const DEFAULT_IDENTITY_MAPPING: Readonly<IdentityMapping> = {
  serviceAccountPrefix: "mca:host:",
  userPrefix: "",
  groupPrefix: "",
  allowPrivileged: false,
};

/**
 * Groups that grant a cluster's administration outside `system:`: kubeadm (≥ 1.29) binds its
 * admin.conf's group to cluster-admin.
 */
const PRIVILEGED_GROUPS = new Set(["kubeadm:cluster-admins"]);

/** The identity a member sees, or why the Cluster does not accept the caller. */
export type MappedIdentity =
  | { kind: "mapped"; user: UserInfo }
  | { kind: "refused"; message: string };

/**
 * A Cluster's `spec.identityMapping` (unknown or mistyped fields take their default; only an
 * explicit `true` allows privileged identities).
 */
export function parseIdentityMapping(value: unknown): IdentityMapping {
  const spec = typeof value === "object" && value !== null ? value as Record<string, unknown> : {};
  const text = (field: string, fallback: string) =>
    typeof spec[field] === "string" ? spec[field] as string : fallback;
  const defaults = DEFAULT_IDENTITY_MAPPING;
  return {
    serviceAccountPrefix: text("serviceAccountPrefix", defaults.serviceAccountPrefix),
    userPrefix: text("userPrefix", defaults.userPrefix),
    groupPrefix: text("groupPrefix", defaults.groupPrefix),
    allowPrivileged: spec.allowPrivileged === true,
  };
}

/** True for host groups that are never passed unless the Cluster allows privileged identities. */
export function isPrivilegedGroup(group: string): boolean {
  if (PRIVILEGED_GROUPS.has(group)) return true;
  return group.startsWith("system:") && group !== "system:authenticated" &&
    !isServiceAccountGroup(group);
}

function isServiceAccountGroup(group: string): boolean {
  return group === "system:serviceaccounts" || group.startsWith("system:serviceaccounts:");
}

/** Maps a host identity (already authorized on the host) to the one the agent impersonates. */
export function mapIdentity(
  user: UserInfo,
  mapping: IdentityMapping,
  cluster: string,
): MappedIdentity {
  const username = mapUsername(user.username, mapping);
  if (username === undefined) {
    return {
      kind: "refused",
      message:
        `Forbidden: cluster "${cluster}" does not accept the host user "${user.username}": ` +
        "privileged users need spec.identityMapping.allowPrivileged, and a prefix must not make a system: name",
    };
  }
  const groups = [
    ...new Set(
      (user.groups ?? []).map((group) => mapGroup(group, mapping)).filter((g) => g !== undefined),
    ),
  ];
  return {
    kind: "mapped",
    user: {
      username,
      ...(groups.length > 0 ? { groups } : {}),
      ...(user.uid ? { uid: user.uid } : {}),
      ...(user.extra ? { extra: user.extra } : {}),
    },
  };
}

/** The member's user name, or undefined when the user is privileged and not allowed. */
function mapUsername(name: string, mapping: IdentityMapping): string | undefined {
  let mapped: string;
  if (serviceAccountOf(name)) mapped = mapping.serviceAccountPrefix + name;
  else if (name.startsWith("system:")) return mapping.allowPrivileged ? name : undefined;
  else mapped = mapping.userPrefix + name;
  // A prefix never makes a reserved name (a prefix "system:" on a user "serviceaccount:ns:x"
  // would otherwise act as the member's ServiceAccount).
  if (mapped.startsWith("system:") && !(mapped === name && serviceAccountOf(name))) {
    return undefined;
  }
  return mapped;
}

/** The member's group, or undefined when it is dropped. */
function mapGroup(group: string, mapping: IdentityMapping): string | undefined {
  if (group === "system:authenticated") return group;
  let mapped: string;
  if (isServiceAccountGroup(group)) mapped = mapping.serviceAccountPrefix + group;
  else if (isPrivilegedGroup(group)) return mapping.allowPrivileged ? group : undefined;
  else mapped = mapping.groupPrefix + group;
  // A prefix never makes a reserved or privileged group.
  if (mapped !== group && (mapped.startsWith("system:") || isPrivilegedGroup(mapped))) {
    return undefined;
  }
  return mapped;
}
