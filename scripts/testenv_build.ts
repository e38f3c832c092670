/**
 * `deno task testenv:build`: builds kube-apiserver and etcd from the Go module proxy into the
 * cache (or checks MCA_TESTENV_BIN). With --if-possible, a missing Go toolchain is a warning:
 * the end-to-end tests then fail with the same explanation instead of being skipped.
 */
import { buildBinaries } from "../src/testenv/mod.ts";

const ifPossible = Deno.args.includes("--if-possible");
try {
  await buildBinaries({
    onProgress: (message) => console.error(message),
    force: Deno.args.includes("--force"),
  });
} catch (error) {
  console.error((error as Error).message);
  if (!ifPossible || !(error as Error).message.includes("needs the Go toolchain")) Deno.exit(1);
}
