/**
 * An app that watches the ConfigMaps of its namespace through the sidecar, as a controller
 * would: credentials read once at start, a new watch whenever one ends. Prints one line per
 * step ("watch 1: 200", "event ADDED name", "watch 1 ended cleanly" or "watch 1 failed: ...").
 * On SIGTERM it keeps watching until it sees a ConfigMap whose name starts with
 * $STOP_AFTER_EVENT, then closes its watch and exits 0, as a graceful shutdown would.
 */
import { inCluster } from "./in_cluster.ts";

const api = inCluster();
const stopAfter = Deno.env.get("STOP_AFTER_EVENT");
let terminating = false;
Deno.addSignalListener("SIGTERM", () => {
  terminating = true;
  console.log("sigterm");
});

for (let round = 1;; round++) {
  const controller = new AbortController();
  try {
    const response = await fetch(
      `${api.base}/api/v1/namespaces/${api.namespace}/configmaps?watch=1`,
      { client: api.client, headers: api.headers, signal: controller.signal },
    );
    console.log(`watch ${round}: ${response.status}`);
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      for (let end = buffer.indexOf("\n"); end >= 0; end = buffer.indexOf("\n")) {
        const event = JSON.parse(buffer.slice(0, end));
        buffer = buffer.slice(end + 1);
        const name = String(event.object?.metadata?.name);
        console.log(`event ${event.type} ${name}`);
        if (terminating && stopAfter && name.startsWith(stopAfter)) {
          controller.abort();
          console.log("closed the watch after SIGTERM");
          Deno.exit(0);
        }
      }
    }
    console.log(`watch ${round} ended cleanly`);
  } catch (error) {
    console.log(`watch ${round} failed: ${(error as Error).message}`);
  }
  await new Promise((resolve) => setTimeout(resolve, 200));
}
