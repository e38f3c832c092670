/**
 * Looks, as whatever user this container runs as, for any file it can read that holds a
 * private key: under /var/run, and under every other process's root that /proc lets it see
 * (which matters when the pod shares its process namespace). Then uses the sidecar's token and
 * CA for one API request. Prints one JSON line.
 */
import { getStatus, inCluster } from "./in_cluster.ts";

const roots = ["/var/run"];
for (const entry of Deno.readDirSync("/proc")) {
  if (/^\d+$/.test(entry.name) && Number(entry.name) !== Deno.pid) {
    roots.push(`/proc/${entry.name}/root/var/run`);
  }
}
const found: string[] = [];
const denied: string[] = [];
let read = 0;

function walk(path: string, depth: number): void {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(path)];
  } catch (error) {
    if (error instanceof Deno.errors.PermissionDenied) denied.push(path);
    return;
  }
  for (const entry of entries) {
    const child = `${path}/${entry.name}`;
    if (entry.isDirectory && depth < 12) walk(child, depth + 1);
    else if (entry.isFile || entry.isSymlink) {
      try {
        if (!Deno.statSync(child).isFile) continue;
        const text = new TextDecoder().decode(Deno.readFileSync(child).subarray(0, 1 << 20));
        read++;
        if (text.includes("PRIVATE KEY")) found.push(child);
      } catch (error) {
        if (error instanceof Deno.errors.PermissionDenied) denied.push(child);
      }
    }
  }
}
for (const root of roots) walk(root, 0);

const api = inCluster();
const status = await getStatus(api, `/api/v1/namespaces/${api.namespace}/configmaps?limit=1`);
console.log(JSON.stringify({
  uid: Deno.uid(),
  gid: Deno.gid(),
  roots: roots.length,
  read,
  found,
  denied,
  tokenLength: api.headers.authorization!.length - "Bearer ".length,
  status,
}));
