/**
 * The first thing an injected app container does: note the time, check that its credentials
 * are there, and make one API request through the sidecar without retrying. Prints one JSON
 * line. If the app started before the sidecar was ready, the files or the listener are missing.
 */
import { getStatus, inCluster, SERVICE_ACCOUNT_DIR } from "./in_cluster.ts";

const startedAtMs = Date.now();
const files = Object.fromEntries(
  ["token", "ca.crt", "namespace"].map((name) => {
    try {
      return [name, Deno.statSync(`${SERVICE_ACCOUNT_DIR}/${name}`).isFile];
    } catch {
      return [name, false];
    }
  }),
);
let firstRequest: number | string;
try {
  const api = inCluster();
  firstRequest = await getStatus(api, `/api/v1/namespaces/${api.namespace}/configmaps?limit=1`);
} catch (error) {
  firstRequest = `error: ${(error as Error).message}`;
}
console.log(JSON.stringify({ startedAtMs, files, firstRequest }));
