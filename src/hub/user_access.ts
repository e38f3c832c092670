/**
 * Who is calling and may they reach a member: TokenReview and SubjectAccessReview on the host
 * (`clusters/proxy` of the named cluster in group mca.k8s.io; `get` on the path `/metrics` for
 * the hub's metrics, as kube-apiserver asks), each cached for a few seconds.
 */
import { createHash } from "node:crypto";
import { ExpiringCache } from "../common/mod.ts";
import type { KubeClient } from "../kube/mod.ts";
import type { ImpersonationCheck } from "./requested_impersonation.ts";

/** An authenticated caller. */
export interface UserInfo {
  username: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

/** The decision for one request. */
export type AccessDecision =
  | { allowed: true; user: UserInfo }
  | { allowed: false; code: 401 | 403; message: string };

const VERBS: Record<string, string> = {
  GET: "get",
  HEAD: "get",
  POST: "create",
  PUT: "update",
  PATCH: "patch",
  DELETE: "delete",
};

/**
 * How many token reviews and access decisions are remembered. Tokens and cluster names come
 * from callers: without a bound, made-up tokens (no authentication needed) grew the hub for ever.
 */
export const MAX_CACHED_CHECKS = 10_000;

/** Checks callers against the host cluster. */
export class UserAccess {
  readonly #tokens: ExpiringCache<{ user: UserInfo | undefined }>;
  readonly #decisions: ExpiringCache<boolean>;

  constructor(
    private readonly host: KubeClient,
    ttlMs = 10_000,
    now: () => number = Date.now,
  ) {
    this.#tokens = new ExpiringCache(ttlMs, MAX_CACHED_CHECKS, now);
    this.#decisions = new ExpiringCache(ttlMs, MAX_CACHED_CHECKS, now);
  }

  /** Token reviews and access decisions held (for tests and debugging). */
  get cachedChecks(): number {
    return this.#tokens.size + this.#decisions.size;
  }

  /** Authenticates the bearer token and authorizes `clusters/proxy` for the cluster and method. */
  async check(
    authorization: string | undefined,
    cluster: string,
    method: string,
  ): Promise<AccessDecision> {
    const caller = await this.authenticate(authorization);
    return caller.allowed ? await this.authorize(caller.user, cluster, method) : caller;
  }

  /** Authenticates the bearer token (TokenReview on the host). */
  async authenticate(authorization: string | undefined): Promise<AccessDecision> {
    const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? "")?.[1];
    if (!token) {
      return { allowed: false, code: 401, message: "Unauthorized: a bearer token is required" };
    }
    const user = await this.#authenticate(token);
    if (!user) {
      return {
        allowed: false,
        code: 401,
        message: "Unauthorized: the token was not accepted by the host cluster",
      };
    }
    return { allowed: true, user };
  }

  /** Authorizes `clusters/proxy` of the cluster for an authenticated user and a method. */
  async authorize(user: UserInfo, cluster: string, method: string): Promise<AccessDecision> {
    const verb = VERBS[method.toUpperCase()] ?? "get";
    const resourceAttributes = {
      group: "mca.k8s.io",
      resource: "clusters",
      subresource: "proxy",
      name: cluster,
      verb,
    };
    if (await this.#authorize(user, { resourceAttributes })) return { allowed: true, user };
    return {
      allowed: false,
      code: 403,
      message:
        `Forbidden: user "${user.username}" cannot ${verb} clusters/proxy "${cluster}" in group mca.k8s.io on the host`,
    };
  }

  /** True when the user may impersonate what the check names (verb `impersonate` on the host). */
  mayImpersonate(user: UserInfo, check: ImpersonationCheck): Promise<boolean> {
    const resourceAttributes = {
      verb: "impersonate",
      group: check.group,
      ...(check.group ? { version: "v1" } : {}),
      resource: check.resource,
      name: check.name,
      ...(check.namespace ? { namespace: check.namespace } : {}),
      ...(check.subresource !== undefined ? { subresource: check.subresource } : {}),
    };
    return this.#authorize(user, { resourceAttributes });
  }

  /** Authenticates the bearer token and authorizes `get` on a non-resource path (`/metrics`). */
  async checkPath(authorization: string | undefined, path: string): Promise<AccessDecision> {
    const caller = await this.authenticate(authorization);
    if (!caller.allowed) return caller;
    if (await this.#authorize(caller.user, { nonResourceAttributes: { path, verb: "get" } })) {
      return caller;
    }
    return {
      allowed: false,
      code: 403,
      message: `Forbidden: user "${caller.user.username}" cannot get path "${path}" on the host`,
    };
  }

  async #authenticate(token: string): Promise<UserInfo | undefined> {
    const key = sha256(token);
    const cached = this.#tokens.get(key);
    if (cached) return cached.user;
    const review = await this.host.create<
      { status?: { authenticated?: boolean; user?: UserInfo } }
    >(
      "/apis/authentication.k8s.io/v1/tokenreviews",
      { apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec: { token } },
    );
    const user = review.status?.authenticated ? review.status.user : undefined;
    this.#tokens.set(key, { user });
    return user;
  }

  async #authorize(user: UserInfo, attributes: Record<string, unknown>): Promise<boolean> {
    const key = JSON.stringify([user.username, user.uid, user.groups, user.extra, attributes]);
    const cached = this.#decisions.get(key);
    if (cached !== undefined) return cached;
    const review = await this.host.create<{ status?: { allowed?: boolean } }>(
      "/apis/authorization.k8s.io/v1/subjectaccessreviews",
      {
        apiVersion: "authorization.k8s.io/v1",
        kind: "SubjectAccessReview",
        spec: {
          user: user.username,
          ...(user.uid ? { uid: user.uid } : {}),
          ...(user.groups ? { groups: user.groups } : {}),
          ...(user.extra ? { extra: user.extra } : {}),
          ...attributes,
        },
      },
    );
    const allowed = review.status?.allowed === true;
    this.#decisions.set(key, allowed);
    return allowed;
  }
}

// Runs on every request: node's synchronous hash costs a fraction of crypto.subtle.digest (an
// async op), which was the hub's largest cost for a small GET in a CPU profile (docs/benchmarks.md).
function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
