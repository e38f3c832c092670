/** What a kubeconfig's user entry says about credentials and impersonation (client-go's rules). */
import type { CredentialSettings, ExecClusterInfo, Impersonation } from "./client_config.ts";
import { KubeconfigError } from "./kubeconfig_error.ts";
import type { KubeconfigUser } from "./kubeconfig_types.ts";

/** The credentials a user entry names; errors point at its file and field. */
export function credentialSettings(
  u: KubeconfigUser,
  where: {
    file: string;
    field: string;
    tokenFileToken: string | undefined;
    cluster: ExecClusterInfo;
  },
): CredentialSettings {
  const hasBearer = Boolean(u.token || u.tokenFile);
  const hasBasic = Boolean(u.username || u.password);
  const fail = (message: string, field: string) =>
    new KubeconfigError(`${where.field}: ${message}`, {
      file: where.file,
      field: `${where.field}.${field}`,
    });
  if (hasBearer && hasBasic) {
    throw fail("a token and username/password cannot both be set", "username");
  }
  if (u.exec && u["auth-provider"]) {
    throw fail("exec and auth-provider cannot both be set", "auth-provider");
  }
  if (u["auth-provider"]) return authProviderCredentials(u["auth-provider"], fail);
  if (u.exec) {
    return {
      type: "exec",
      exec: u.exec,
      ...(u.exec.provideClusterInfo ? { cluster: where.cluster } : {}),
    };
  }
  if (u.tokenFile) {
    const token = where.tokenFileToken?.trim() || u.token;
    return { type: "tokenFile", path: u.tokenFile, ...(token ? { token } : {}) };
  }
  if (u.token) return { type: "token", token: u.token };
  if (hasBasic) return { type: "basic", username: u.username ?? "", password: u.password ?? "" };
  return { type: "none" };
}

function authProviderCredentials(
  provider: NonNullable<KubeconfigUser["auth-provider"]>,
  fail: (message: string, field: string) => Error,
): CredentialSettings {
  // gcp and azure were removed from client-go in 1.26; oidc remains: its current id-token is sent.
  if (provider.name !== "oidc") {
    throw fail(
      `auth-provider "${provider.name}" is not supported; use an exec credential plugin (for example kubelogin or gke-gcloud-auth-plugin)`,
      "auth-provider.name",
    );
  }
  const token = provider.config?.["id-token"];
  if (!token) {
    throw fail("auth-provider oidc needs config.id-token", "auth-provider.config.id-token");
  }
  return { type: "token", token };
}

/** The impersonation a user entry asks for (`as`, `as-uid`, `as-groups`, `as-user-extra`). */
export function impersonation(u: KubeconfigUser): Impersonation | undefined {
  if (!u.as) return undefined;
  return {
    user: u.as,
    ...(u["as-uid"] ? { uid: u["as-uid"] } : {}),
    ...(u["as-groups"]?.length ? { groups: u["as-groups"] } : {}),
    ...(u["as-user-extra"] ? { extra: u["as-user-extra"] } : {}),
  };
}
