/**
 * The step after authorization: how the member sees the request's identity. The agent
 * impersonates it as the Cluster maps it (identity_mapping.ts); a Cluster that explicitly runs
 * requests as the agent gets no impersonation, and refuses requests that impersonate.
 */
import { impersonationHeaders } from "../kube/mod.ts";
import type { MemberIdentity } from "./cluster_identity.ts";
import { DEFAULT_IDENTITY_MAPPING, mapIdentity } from "./identity_mapping.ts";
import type { UserInfo } from "./user_access.ts";

/** The headers the agent sends for a request, and the user the member sees. */
export interface MemberImpersonation {
  kind: "member";
  headers: Record<string, string[]>;
  memberUser?: string;
}

/** A request the Cluster does not accept, with its code. */
export interface MemberRefusal {
  kind: "refuse";
  code: number;
  message: string;
}

/**
 * The impersonation headers the agent sends: the caller as the Cluster maps it. The caller's own
 * credentials never reach the member; only a Cluster that explicitly chose it has requests run
 * as the agent itself, and there a request that impersonates is refused (the agent may
 * impersonate anyone: passing the caller's choice would hand it that power).
 */
export async function memberImpersonation(
  cluster: string,
  caller: { user: UserInfo; impersonator?: UserInfo },
  identityOf: ((cluster: string) => Promise<MemberIdentity>) | undefined,
): Promise<MemberRefusal | MemberImpersonation> {
  const member: MemberIdentity = (await identityOf?.(cluster)) ??
    { identity: "Impersonate", mapping: DEFAULT_IDENTITY_MAPPING };
  if (member.identity === "AgentServiceAccount") {
    if (!caller.impersonator) return { kind: "member", headers: {} };
    return {
      kind: "refuse",
      code: 403,
      message:
        `Forbidden: cluster "${cluster}" runs requests as the agent's ServiceAccount (spec.identity AgentServiceAccount), where impersonation is not supported`,
    };
  }
  const mapped = mapIdentity(caller.user, member.mapping, cluster);
  if (mapped.kind === "refused") return { kind: "refuse", code: 403, message: mapped.message };
  return { kind: "member", headers: impersonating(mapped.user), memberUser: mapped.user.username };
}

function impersonating(user: UserInfo): Record<string, string[]> {
  return impersonationHeaders({
    user: user.username,
    ...(user.uid ? { uid: user.uid } : {}),
    ...(user.groups ? { groups: user.groups } : {}),
    ...(user.extra ? { extra: user.extra } : {}),
  });
}
