/**
 * The step after authentication: the identity a request acts as. Without `Impersonate-*`
 * headers, the authenticated caller; with them, the requested identity once the host allowed
 * the caller each part of it (SubjectAccessReviews with verb `impersonate`, in kube-apiserver's
 * order; the first denial refuses the request).
 */
import { requestedImpersonation } from "./requested_impersonation.ts";
import type { UserAccess, UserInfo } from "./user_access.ts";

/** The identity a request acts as, and who asked for it when that is someone else. */
export interface EffectiveCaller {
  kind: "effective";
  user: UserInfo;
  /** The authenticated caller, when it impersonates `user`. */
  impersonator?: UserInfo;
}

/** Why a request's impersonation is refused, with kube-apiserver's code. */
export interface ImpersonationRefusal {
  kind: "refuse";
  code: number;
  message: string;
}

/** The caller, or the identity it may impersonate. */
export async function effectiveCaller(
  caller: UserInfo,
  rawHeaders: readonly string[],
  access: Pick<UserAccess, "mayImpersonate">,
): Promise<EffectiveCaller | ImpersonationRefusal> {
  const requested = requestedImpersonation(rawHeaders);
  if (requested.kind === "none") return { kind: "effective", user: caller };
  // kube-apiserver answers this with an internal error (500) too.
  if (requested.kind === "invalid") {
    return { kind: "refuse", code: 500, message: requested.message };
  }
  for (const check of requested.checks) {
    if (!(await access.mayImpersonate(caller, check))) {
      const what = check.resource === "userextras"
        ? `userextras/${check.subresource}`
        : check.resource;
      const where = check.namespace ? ` in namespace "${check.namespace}"` : "";
      return {
        kind: "refuse",
        code: 403,
        message:
          `Forbidden: user "${caller.username}" cannot impersonate ${what} "${check.name}"${where} on the host`,
      };
    }
  }
  return { kind: "effective", user: requested.user, impersonator: caller };
}
