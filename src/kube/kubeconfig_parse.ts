/** Parsing of one kubeconfig file's text into checked, path-resolved entries (pure). */
import { dirname, isAbsolute, join } from "node:path";
import { parseDocument } from "yaml";
import {
  decodeBase64Field,
  FieldError,
  optionalArray,
  optionalBoolean,
  optionalObject,
  optionalString,
  optionalStringList,
  requiredString,
} from "./_object_reader.ts";
import { KubeconfigError } from "./kubeconfig_error.ts";
import type {
  ExecConfig,
  Kubeconfig,
  KubeconfigCluster,
  KubeconfigContext,
  KubeconfigUser,
  Named,
  NamedExtension,
} from "./kubeconfig_types.ts";

const EXEC_API_VERSIONS = [
  "client.authentication.k8s.io/v1",
  "client.authentication.k8s.io/v1beta1",
];
const INTERACTIVE_MODES = ["Never", "IfAvailable", "Always"] as const;

/** Parses kubeconfig text read from `file` (an absolute path; relative paths inside resolve against its folder). */
export function parseKubeconfig(text: string, file: string): Kubeconfig {
  const root = parseYaml(text, file);
  try {
    const base = dirname(file);
    const config = optionalObject(root, "(top level)") ?? {};
    const currentContext = optionalString(config["current-context"], "current-context");
    return {
      clusters: namedList(
        config.clusters,
        "clusters",
        "cluster",
        file,
        (v, f) => parseCluster(v, f, base),
      ),
      users: namedList(config.users, "users", "user", file, (v, f) => parseUser(v, f, base)),
      contexts: namedList(config.contexts, "contexts", "context", file, parseContext),
      ...(currentContext ? { "current-context": currentContext, currentContextFile: file } : {}),
      files: [file],
    };
  } catch (error) {
    if (error instanceof FieldError) {
      throw new KubeconfigError(error.message, { file, field: error.field });
    }
    throw error;
  }
}

function parseYaml(text: string, file: string): unknown {
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: false });
  const [error] = document.errors;
  if (error) {
    const position = error.linePos?.[0];
    const where = position ? ` at line ${position.line}, column ${position.col}` : "";
    const reason = error.message.split("\n")[0]?.replace(/ at line \d+, column \d+:?$/, "");
    throw new KubeconfigError(`not valid YAML${where}: ${reason}`, { file });
  }
  return document.toJS();
}

function namedList<T>(
  value: unknown,
  listField: string,
  itemField: string,
  file: string,
  parse: (value: unknown, field: string) => T,
): Named<T>[] {
  const items = optionalArray(value, listField) ?? [];
  const seen = new Set<string>();
  const entries: Named<T>[] = [];
  items.forEach((item, i) => {
    const field = `${listField}[${i}]`;
    const entry = optionalObject(item, field) ?? {};
    const name = requiredString(entry.name, `${field}.name`);
    // client-go refuses a name used twice in one file (across files, the first one wins).
    if (seen.has(name)) {
      throw new FieldError(`${field}.name`, `"${name}" is used twice in ${listField}`);
    }
    seen.add(name);
    entries.push({ name, value: parse(entry[itemField] ?? {}, `${field}.${itemField}`), file });
  });
  return entries;
}

function parseCluster(value: unknown, field: string, base: string): KubeconfigCluster {
  const cluster = optionalObject(value, field) ?? {};
  return compact({
    server: optionalString(cluster.server, `${field}.server`),
    "tls-server-name": optionalString(cluster["tls-server-name"], `${field}.tls-server-name`),
    "insecure-skip-tls-verify": optionalBoolean(
      cluster["insecure-skip-tls-verify"],
      `${field}.insecure-skip-tls-verify`,
    ),
    "certificate-authority": resolvePath(
      optionalString(cluster["certificate-authority"], `${field}.certificate-authority`),
      base,
    ),
    "certificate-authority-data": decodeBase64Field(
      cluster["certificate-authority-data"],
      `${field}.certificate-authority-data`,
    ),
    "proxy-url": optionalString(cluster["proxy-url"], `${field}.proxy-url`),
    "disable-compression": optionalBoolean(
      cluster["disable-compression"],
      `${field}.disable-compression`,
    ),
    extensions: parseExtensions(cluster.extensions, `${field}.extensions`),
  });
}

function parseUser(value: unknown, field: string, base: string): KubeconfigUser {
  const user = optionalObject(value, field) ?? {};
  const exec = optionalObject(user.exec, `${field}.exec`);
  const authProvider = optionalObject(user["auth-provider"], `${field}.auth-provider`);
  return compact({
    "client-certificate": resolvePath(
      optionalString(user["client-certificate"], `${field}.client-certificate`),
      base,
    ),
    "client-certificate-data": decodeBase64Field(
      user["client-certificate-data"],
      `${field}.client-certificate-data`,
    ),
    "client-key": resolvePath(optionalString(user["client-key"], `${field}.client-key`), base),
    "client-key-data": decodeBase64Field(user["client-key-data"], `${field}.client-key-data`),
    token: optionalString(user.token, `${field}.token`),
    tokenFile: resolvePath(optionalString(user.tokenFile, `${field}.tokenFile`), base),
    as: optionalString(user.as, `${field}.as`),
    "as-uid": optionalString(user["as-uid"], `${field}.as-uid`),
    "as-groups": optionalStringList(user["as-groups"], `${field}.as-groups`),
    "as-user-extra": parseUserExtra(user["as-user-extra"], `${field}.as-user-extra`),
    username: optionalString(user.username, `${field}.username`),
    password: optionalString(user.password, `${field}.password`),
    "auth-provider": authProvider && compact({
      name: requiredString(authProvider.name, `${field}.auth-provider.name`),
      config: parseStringMap(authProvider.config, `${field}.auth-provider.config`),
    }),
    exec: exec && parseExec(exec, `${field}.exec`, base),
  });
}

function parseExec(exec: Record<string, unknown>, field: string, base: string): ExecConfig {
  const apiVersion = requiredString(exec.apiVersion, `${field}.apiVersion`);
  if (!EXEC_API_VERSIONS.includes(apiVersion)) {
    throw new FieldError(
      `${field}.apiVersion`,
      `"${apiVersion}" is not supported (use ${EXEC_API_VERSIONS.join(" or ")})`,
    );
  }
  const command = requiredString(exec.command, `${field}.command`);
  const interactiveMode = optionalString(exec.interactiveMode, `${field}.interactiveMode`);
  if (
    interactiveMode !== undefined && !INTERACTIVE_MODES.some((mode) => mode === interactiveMode)
  ) {
    throw new FieldError(
      `${field}.interactiveMode`,
      `must be one of ${INTERACTIVE_MODES.join(", ")}`,
    );
  }
  if (interactiveMode === undefined && apiVersion.endsWith("/v1")) {
    throw new FieldError(
      `${field}.interactiveMode`,
      "is required for client.authentication.k8s.io/v1",
    );
  }
  const env = optionalArray(exec.env, `${field}.env`)?.map((item, i) => {
    const entry = optionalObject(item, `${field}.env[${i}]`) ?? {};
    return {
      name: requiredString(entry.name, `${field}.env[${i}].name`),
      value: optionalString(entry.value, `${field}.env[${i}].value`) ?? "",
    };
  });
  return compact({
    // A command with a path separator is relative to the kubeconfig; a bare name is looked up in PATH.
    command: command.includes("/") ? resolvePath(command, base) ?? command : command,
    args: optionalStringList(exec.args, `${field}.args`),
    env,
    apiVersion,
    installHint: optionalString(exec.installHint, `${field}.installHint`),
    provideClusterInfo: optionalBoolean(exec.provideClusterInfo, `${field}.provideClusterInfo`),
    interactiveMode: (interactiveMode ?? "IfAvailable") as ExecConfig["interactiveMode"],
  });
}

function parseContext(value: unknown, field: string): KubeconfigContext {
  const context = optionalObject(value, field) ?? {};
  return compact({
    cluster: optionalString(context.cluster, `${field}.cluster`),
    user: optionalString(context.user, `${field}.user`),
    namespace: optionalString(context.namespace, `${field}.namespace`),
  });
}

function parseExtensions(value: unknown, field: string): NamedExtension[] | undefined {
  return optionalArray(value, field)?.map((item, i) => {
    const entry = optionalObject(item, `${field}[${i}]`) ?? {};
    return { name: requiredString(entry.name, `${field}[${i}].name`), extension: entry.extension };
  });
}

function parseUserExtra(value: unknown, field: string): Record<string, string[]> | undefined {
  const extra = optionalObject(value, field);
  if (!extra) return undefined;
  return Object.fromEntries(
    Object.entries(extra).map((
      [key, values],
    ) => [key, optionalStringList(values, `${field}.${key}`) ?? []]),
  );
}

function parseStringMap(value: unknown, field: string): Record<string, string> | undefined {
  const map = optionalObject(value, field);
  if (!map) return undefined;
  return Object.fromEntries(
    Object.entries(map).map(([key, item]) => [key, optionalString(item, `${field}.${key}`) ?? ""]),
  );
}

function resolvePath(path: string | undefined, base: string): string | undefined {
  if (path === undefined || path === "" || isAbsolute(path)) return path;
  return join(base, path);
}

/** Drops undefined properties, so that results satisfy exactOptionalPropertyTypes. */
function compact<T extends object>(value: { [K in keyof T]: T[K] | undefined }): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
