/**
 * Load on the sidecar from inside its pod, for the pods benchmark: $LOAD_MODE "list" runs
 * $LOAD_CONCURRENCY loops of LISTs of the namespace's ConfigMaps, "watch" holds that many
 * watches open and reads their events, for $LOAD_SECONDS; then prints a JSON summary and idles.
 */
import { inCluster } from "./in_cluster.ts";

const api = inCluster();
const mode = Deno.env.get("LOAD_MODE") ?? "list";
const concurrency = Number(Deno.env.get("LOAD_CONCURRENCY") ?? 8);
const until = Date.now() + Number(Deno.env.get("LOAD_SECONDS") ?? 20) * 1000;
const url = `${api.base}/api/v1/namespaces/${api.namespace}/configmaps`;
let requests = 0;
let events = 0;
let errors = 0;

async function listLoop(): Promise<void> {
  while (Date.now() < until) {
    try {
      const response = await fetch(url, { client: api.client, headers: api.headers });
      await response.arrayBuffer();
      if (response.ok) requests++;
      else errors++;
    } catch {
      errors++;
    }
  }
}

async function watchLoop(): Promise<void> {
  const controller = new AbortController();
  setTimeout(() => controller.abort(), Math.max(0, until - Date.now()));
  try {
    const response = await fetch(`${url}?watch=1`, {
      client: api.client,
      headers: api.headers,
      signal: controller.signal,
    });
    requests++;
    for await (const chunk of response.body!) {
      for (const byte of chunk) if (byte === 0x0a) events++;
    }
  } catch {
    if (!controller.signal.aborted) errors++;
  }
}

console.log("load started");
await Promise.all(
  Array.from({ length: concurrency }, () => mode === "watch" ? watchLoop() : listLoop()),
);
console.log(JSON.stringify({ mode, concurrency, requests, events, errors }));
setInterval(() => {}, 1 << 30);
