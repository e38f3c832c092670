/** Turns a (merged) kubeconfig and a context choice into a ClientConfig, like clientcmd does. */
import { encodeBase64 } from "./_base64.ts";
import type { ClientConfig, ExecClusterInfo } from "./client_config.ts";
import { KubeconfigError } from "./kubeconfig_error.ts";
import { credentialSettings, impersonation } from "./_user_settings.ts";
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

/** Where an entry's fields are, for errors: the kubeconfig file and the field's path. */
interface EntryFields<T> {
  entry: Named<T>;
  field: string;
}

async function buildClientConfig(
  cluster: Named<KubeconfigCluster>,
  user: Named<KubeconfigUser>,
  options: { namespace: string; source: string; readTextFile: ReadTextFile },
): Promise<ClientConfig> {
  const c = cluster.value;
  const u = user.value;
  const clusterAt = { entry: cluster, field: `clusters["${cluster.name}"].cluster` };
  const userAt = { entry: user, field: `users["${user.name}"].user` };
  const { caPem, certPem, keyPem } = await readTlsFiles(clusterAt, userAt, options.readTextFile);
  const insecure = c["insecure-skip-tls-verify"] === true;
  if (insecure && caPem !== undefined) {
    // client-go refuses this combination rather than guessing which one the user meant.
    throw new KubeconfigError(
      `${clusterAt.field}: insecure-skip-tls-verify and a certificate authority cannot both be set`,
      { file: cluster.file, field: `${clusterAt.field}.insecure-skip-tls-verify` },
    );
  }
  const hasTls = caPem !== undefined || certPem !== undefined || insecure;
  const server = normalizeServer(c.server, hasTls, {
    file: cluster.file,
    field: `${clusterAt.field}.server`,
  });
  const proxyUrl = c["proxy-url"];
  if (proxyUrl !== undefined) {
    checkProxyUrl(proxyUrl, { file: cluster.file, field: `${clusterAt.field}.proxy-url` });
  }
  const tokenFileToken = u.tokenFile
    ? await readReferenced(options.readTextFile, u.tokenFile, {
      ...userAt,
      field: `${userAt.field}.tokenFile`,
    })
    : undefined;
  const credentials = credentialSettings(u, {
    file: user.file,
    field: userAt.field,
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

/** A file the kubeconfig references; a read error names the field that referenced it. */
async function readReferenced(
  readTextFile: ReadTextFile,
  path: string | undefined,
  { entry, field }: EntryFields<unknown>,
): Promise<string | undefined> {
  if (!path) return undefined;
  try {
    return await readTextFile(path);
  } catch (error) {
    throw new KubeconfigError(`${field}: cannot read "${path}": ${(error as Error).message}`, {
      file: entry.file,
      field,
    });
  }
}

/** The CA and the client key pair, inline or read from files; both halves of the pair or none. */
async function readTlsFiles(
  clusterAt: EntryFields<KubeconfigCluster>,
  userAt: EntryFields<KubeconfigUser>,
  readTextFile: ReadTextFile,
): Promise<
  { caPem?: string | undefined; certPem?: string | undefined; keyPem?: string | undefined }
> {
  const c = clusterAt.entry.value;
  const u = userAt.entry.value;
  const at = <T>(where: EntryFields<T>, name: string) => ({
    ...where,
    field: `${where.field}.${name}`,
  });
  const caPem = c["certificate-authority-data"] ??
    await readReferenced(
      readTextFile,
      c["certificate-authority"],
      at(clusterAt, "certificate-authority"),
    );
  const certPem = u["client-certificate-data"] ??
    await readReferenced(readTextFile, u["client-certificate"], at(userAt, "client-certificate"));
  const keyPem = u["client-key-data"] ??
    await readReferenced(readTextFile, u["client-key"], at(userAt, "client-key"));
  if ((certPem === undefined) !== (keyPem === undefined)) {
    const missing = certPem === undefined ? "client-certificate" : "client-key";
    throw new KubeconfigError(
      `${userAt.field}.${missing} is required when the other half of the client key pair is set`,
      { file: userAt.entry.file, field: `${userAt.field}.${missing}` },
    );
  }
  return { caPem, certPem, keyPem };
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
