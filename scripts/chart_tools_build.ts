/**
 * Builds the chart tools into the cache: helm, kubeconform and promtool from the Go module proxy,
 * the monitoring.coreos.com CRDs from the prometheus-operator module, and
 * kubeconform's Kubernetes JSON schemas from the k8s.io/kubernetes module's OpenAPI document.
 * With --if-possible, a missing Go toolchain is a warning: the chart tests then fail with the
 * same explanation instead of being skipped. --force rebuilds what is cached.
 */
import { buildChartTools } from "../src/testenv/mod.ts";

const ifPossible = Deno.args.includes("--if-possible");
try {
  const tools = await buildChartTools({
    onProgress: (message) => console.error(message),
    force: Deno.args.includes("--force"),
  });
  console.error(
    `Chart tools ready: ${tools.helm}, ${tools.kubeconform}, ${tools.promtool}, ${tools.schemaLocation}`,
  );
} catch (error) {
  console.error((error as Error).message);
  if (!ifPossible || !(error as Error).message.includes("needs the Go toolchain")) Deno.exit(1);
}
