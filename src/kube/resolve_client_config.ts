/** Turns a (merged) kubeconfig and a context choice into a ClientConfig, like clientcmd does. */
import { encodeBase64 } from "./_base64.ts";
import type {
  ClientConfig,
  CredentialSettings,
  ExecClusterInfo,
  Impersonation,
} from "./client_config.ts";
import { KubeconfigError } from "./kubeconfig_error.ts";
import type { Kubeconfig, KubeconfigCluster, KubeconfigUser, Named } from "./kubeconfig_types.ts";

/** Which context to use, and kubectl-style overrides. */
export interface ContextSelection {
  /** `--context`; default current-context. */
  context?: string;
  /** `--cluster`, `--user`, `--namespace` overrides. */
  cluster?: string;
  user?: string;
  namespace?: string;
}

/** Reads a file referenced by the kubeconfig; rejects with the OS error when it cannot. */
export type ReadTextFile = (path: string) => Promise<string>;

// The extension whose value client-go passes to exec plugins as spec.cluster.config.
const EXEC_EXTENSION = "client.authentication.k8s.io/exec";

/** Resolves the chosen context into a ClientConfig, reading the files it references. */
export async function resolveClientConfig(
  config: Kubeconfig,
  selection: ContextSelection,
  readTextFile: ReadTextFile,
): Promise<ClientConfig> {
  const files = config.files.join(", ") || "(no file)";
  const contextName = selection.context || config["current-context"];
  if (!contextName) {
    throw new KubeconfigError(
      `no context chosen: set current-context or pass --context${
        known(config.contexts, "contexts")
      }`,
      { file: files, field: "current-context" },
    );
  }
  const context = config.contexts.find((entry) => entry.name === contextName);
  if (!context) {
    const file = selection.context ? files : config.currentContextFile ?? files;
    const field = selection.context ? "--context" : "current-context";
    throw new KubeconfigError(
      `context "${contextName}" not found${known(config.contexts, "contexts")}`,
      {
        file,
        field,
      },
    );
  }
  const contextField = `contexts["${context.name}"].context`;
  const cluster = findEntry(config.clusters, selection.cluster ?? context.value.cluster, {
    kind: "cluster",
    file: context.file,
    field: `${contextField}.cluster`,
  });
  const userName = selection.user ?? context.value.user;
  const user: Named<KubeconfigUser> = userName
    ? findEntry(config.users, userName, {
      kind: "user",
      file: context.file,
      field: `${contextField}.user`,
    })
    : { name: "", value: {}, file: context.file };
  const source = `context "${context.name}" in "${context.file}"`;
  return await buildClientConfig(cluster, user, {
    namespace: selection.namespace || context.value.namespace || "default",
    source,
    readTextFile,
  });
}

function findEntry<T>(
  entries: Named<T>[],
  name: string | undefined,
  where: { kind: string; file: string; field: string },
): Named<T> {
  if (!name) throw new KubeconfigError(`${where.field} is required`, where);
  const entry = entries.find((e) => e.name === name);
  if (!entry) {
    throw new KubeconfigError(
      `${where.field} names ${where.kind} "${name}", which is not defined${
        known(entries, `${where.kind}s`)
      }`,
      where,
    );
  }
  return entry;
}

function known<T>(entries: Named<T>[], what: string): string {
  const names = entries.map((entry) => `"${entry.name}"`);
  return names.length > 0 ? ` (${what}: ${names.join(", ")})` : ` (the file defines no ${what})`;
}

async function buildClientConfig(
  cluster: Named<KubeconfigCluster>,
  user: Named<KubeconfigUser>,
  options: { namespace: string; source: string; readTextFile: ReadTextFile },
): Promise<ClientConfig> {
  const c = cluster.value;
  const u = user.value;
  const clusterField = `clusters["${cluster.name}"].cluster`;
  const userField = `users["${user.name}"].user`;
  const read = async (path: string | undefined, entry: Named<unknown>, field: string) => {
    if (!path) return undefined;
    try {
      return await options.readTextFile(path);
    } catch (error) {
      throw new KubeconfigError(`${field}: cannot read "${path}": ${(error as Error).message}`, {
        file: entry.file,
        field,
      });
    }
  };

  const caPem = c["certificate-authority-data"] ??
    await read(c["certificate-authority"], cluster, `${clusterField}.certificate-authority`);
  const certPem = u["client-certificate-data"] ??
    await read(u["client-certificate"], user, `${userField}.client-certificate`);
  const keyPem = u["client-key-data"] ??
    await read(u["client-key"], user, `${userField}.client-key`);
  if ((certPem === undefined) !== (keyPem === undefined)) {
    const missing = certPem === undefined ? "client-certificate" : "client-key";
    throw new KubeconfigError(
      `${userField}.${missing} is required when the other half of the client key pair is set`,
      {
        file: user.file,
        field: `${userField}.${missing}`,
      },
    );
  }
  const insecure = c["insecure-skip-tls-verify"] === true;
  if (insecure && caPem !== undefined) {
    // client-go refuses this combination rather than guessing which one the user meant.
    throw new KubeconfigError(
      `${clusterField}: insecure-skip-tls-verify and a certificate authority cannot both be set`,
      { file: cluster.file, field: `${clusterField}.insecure-skip-tls-verify` },
    );
  }
  const hasTls = caPem !== undefined || certPem !== undefined || insecure;
  const server = normalizeServer(c.server, hasTls, {
    file: cluster.file,
    field: `${clusterField}.server`,
  });
  const proxyUrl = c["proxy-url"];
  if (proxyUrl !== undefined) {
    checkProxyUrl(proxyUrl, { file: cluster.file, field: `${clusterField}.proxy-url` });
  }

  const tokenFileToken = u.tokenFile
    ? await read(u.tokenFile, user, `${userField}.tokenFile`)
    : undefined;
  const credentials = credentialSettings(u, {
    file: user.file,
    field: userField,
    tokenFileToken,
    cluster: execClusterInfo(server, c, caPem),
  });
  const impersonate = impersonation(u);
  return {
    server,
    tls: {
      ...(caPem !== undefined ? { caPem } : {}),
      ...(certPem !== undefined && keyPem !== undefined ? { certPem, keyPem } : {}),
      ...(c["tls-server-name"] ? { serverName: c["tls-server-name"] } : {}),
      insecureSkipVerify: insecure,
    },
    ...(proxyUrl ? { proxyUrl } : {}),
    disableCompression: c["disable-compression"] === true,
    credentials,
    ...(impersonate ? { impersonate } : {}),
    namespace: options.namespace,
    source: options.source,
  };
}

function credentialSettings(
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

function execClusterInfo(
  server: string,
  c: KubeconfigCluster,
  caPem: string | undefined,
): ExecClusterInfo {
  const config = c.extensions?.find((extension) => extension.name === EXEC_EXTENSION)?.extension;
  return {
    server,
    ...(c["tls-server-name"] ? { "tls-server-name": c["tls-server-name"] } : {}),
    ...(c["insecure-skip-tls-verify"] ? { "insecure-skip-tls-verify": true } : {}),
    ...(caPem ? { "certificate-authority-data": encodeBase64(caPem) } : {}),
    ...(c["proxy-url"] ? { "proxy-url": c["proxy-url"] } : {}),
    ...(c["disable-compression"] ? { "disable-compression": true } : {}),
    ...(config !== undefined ? { config } : {}),
  };
}

function impersonation(u: KubeconfigUser): Impersonation | undefined {
  if (!u.as) return undefined;
  return {
    user: u.as,
    ...(u["as-uid"] ? { uid: u["as-uid"] } : {}),
    ...(u["as-groups"]?.length ? { groups: u["as-groups"] } : {}),
    ...(u["as-user-extra"] ? { extra: u["as-user-extra"] } : {}),
  };
}

/** Checks the server URL; without a scheme it is https when TLS is configured, as client-go does. */
function normalizeServer(
  server: string | undefined,
  hasTls: boolean,
  where: { file: string; field: string },
): string {
  if (!server) throw new KubeconfigError(`${where.field} is required`, where);
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(server)
    ? server
    : `${hasTls ? "https" : "http"}://${server}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new KubeconfigError(`${where.field} "${server}" is not a valid URL`, where);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new KubeconfigError(`${where.field} "${server}" must use https or http`, where);
  }
  if (url.username || url.password) {
    throw new KubeconfigError(
      `${where.field} must not carry credentials; use the user entry`,
      where,
    );
  }
  return (url.origin + url.pathname).replace(/\/+$/, "");
}

function checkProxyUrl(proxyUrl: string, where: { file: string; field: string }): void {
  let url: URL;
  try {
    url = new URL(proxyUrl);
  } catch {
    throw new KubeconfigError(`${where.field} is not a valid URL`, where);
  }
  if (!["http:", "https:", "socks5:"].includes(url.protocol)) {
    throw new KubeconfigError(`${where.field} must use http, https or socks5`, where);
  }
}
