// Runs the stand-in kubelet as its own process (see kubelet_standin.ts): prints "standin URL KUBECONFIG".
import { serveKubeletStandIn } from "./kubelet_standin.ts";

const dir = Deno.args[0] ?? await Deno.makeTempDir();
const standIn = await serveKubeletStandIn(dir);
console.log(`standin ${standIn.url} ${standIn.kubeconfigPath}`);
