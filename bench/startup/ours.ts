// Loads a kubeconfig with mca's own kube module, makes one request, then idles until stdin closes.
import { createKubeClient, createKubeTransport, loadClientConfig } from "../../src/kube/mod.ts";

const client = createKubeClient(
  createKubeTransport(await loadClientConfig({ kubeconfig: Deno.args[0]! })),
);
await client.get("/version");
console.log("ready");
for await (const _ of Deno.stdin.readable) { /* idle */ }
