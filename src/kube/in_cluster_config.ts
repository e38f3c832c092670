/** In-cluster configuration: the API server from the environment, the pod's service account files. */
import type { ClientConfig } from "./client_config.ts";

/** Where the service-account files live in a pod. */
export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** Inputs of in-cluster configuration; defaults read the real environment and files. */
export interface InClusterOptions {
  env?: (name: string) => string | undefined;
  /** Folder holding `token`, `ca.crt` and `namespace`. */
  serviceAccountDir?: string;
  readTextFile?: (path: string) => Promise<string>;
}

/** Builds the config a pod uses (as client-go's rest.InClusterConfig), with the token re-read as it rotates. */
export async function inClusterConfig(options: InClusterOptions = {}): Promise<ClientConfig> {
  const env = options.env ?? ((name: string) => Deno.env.get(name));
  const dir = options.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  const readTextFile = options.readTextFile ?? Deno.readTextFile;
  const host = env("KUBERNETES_SERVICE_HOST");
  const port = env("KUBERNETES_SERVICE_PORT");
  if (!host || !port) {
    throw new Error(
      "Cannot use in-cluster configuration: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set (not running in a pod?)",
    );
  }
  const read = async (name: string, required: boolean) => {
    try {
      return await readTextFile(`${dir}/${name}`);
    } catch (error) {
      if (!required && error instanceof Deno.errors.NotFound) return undefined;
      throw new Error(
        `Cannot use in-cluster configuration: cannot read "${dir}/${name}": ${
          (error as Error).message
        }`,
      );
    }
  };
  const token = (await read("token", true))?.trim();
  const caPem = await read("ca.crt", true);
  const namespace = (await read("namespace", false))?.trim();
  const hostPart = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  return {
    server: `https://${hostPart}:${port}`,
    tls: { ...(caPem ? { caPem } : {}), insecureSkipVerify: false },
    disableCompression: false,
    credentials: { type: "tokenFile", path: `${dir}/token`, ...(token ? { token } : {}) },
    namespace: namespace || "default",
    source: "in-cluster",
  };
}
