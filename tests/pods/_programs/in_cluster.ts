/**
 * In-cluster access as an app in a pod does it (client-go's rest.InClusterConfig): the API
 * server from KUBERNETES_SERVICE_HOST/PORT, the token, CA and namespace from the
 * service-account folder, read once at start. Runs inside test pods (the deno image).
 */

/** Where every app looks for its credentials. */
export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** An app's way to its API server. */
export interface InCluster {
  base: string;
  namespace: string;
  headers: Record<string, string>;
  client: Deno.HttpClient;
}

/** Reads the credentials and builds an HTTPS client that trusts only their CA. */
export function inCluster(): InCluster {
  const read = (name: string) => Deno.readTextFileSync(`${SERVICE_ACCOUNT_DIR}/${name}`).trim();
  const host = Deno.env.get("KUBERNETES_SERVICE_HOST");
  const port = Deno.env.get("KUBERNETES_SERVICE_PORT");
  return {
    base: `https://${host}:${port}`,
    namespace: read("namespace"),
    headers: { authorization: `Bearer ${read("token")}`, accept: "application/json" },
    client: Deno.createHttpClient({ caCerts: [read("ca.crt")] }),
  };
}

/** One GET with the app's credentials; the answer's status, or the error's message. */
export async function getStatus(api: InCluster, path: string): Promise<number | string> {
  try {
    const response = await fetch(`${api.base}${path}`, {
      client: api.client,
      headers: api.headers,
    });
    await response.body?.cancel();
    return response.status;
  } catch (error) {
    return `error: ${(error as Error).message}`;
  }
}
