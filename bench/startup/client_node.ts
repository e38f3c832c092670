// Loads a kubeconfig with @kubernetes/client-node, makes one request, then idles until stdin closes.
import { KubeConfig, VersionApi } from "@kubernetes/client-node";

const config = new KubeConfig();
config.loadFromFile(Deno.args[0]!);
await config.makeApiClient(VersionApi).getCode();
console.log("ready");
for await (const _ of Deno.stdin.readable) { /* idle */ }
