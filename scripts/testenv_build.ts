/**
 * `deno task testenv:build`: builds kube-apiserver and etcd from the Go module proxy into the
 * cache (or checks MCA_TESTENV_BIN), then what real nodes need: the Debian packages (installed
 * with apt-get when missing; root only), the node binaries (kubelet, kube-proxy,
 * kube-controller-manager, kube-scheduler, CoreDNS) and the test images. It also removes what
 * killed test runs left on the machine. With --if-possible, a missing Go toolchain or missing
 * root is a warning: the end-to-end tests then fail with the same explanation instead of being
 * skipped. --force rebuilds the cached binaries.
 */
import {
  buildBinaries,
  buildNodeBinaries,
  buildTestImages,
  ensureHostPackages,
  NODE_PACKAGES,
  PROXY_PACKAGES,
  SHELL_PACKAGES,
  sweepStaleTestEnvs,
} from "../src/testenv/mod.ts";

const ifPossible = Deno.args.includes("--if-possible");
const force = Deno.args.includes("--force");
const progress = (message: string) => console.error(message);

/** Runs one step; with --if-possible, a reason that cannot be fixed here is only a warning. */
async function step(work: () => Promise<void>, fixableElsewhere: string[]): Promise<void> {
  try {
    await work();
  } catch (error) {
    const message = (error as Error).message;
    console.error(message);
    if (!ifPossible || !fixableElsewhere.some((reason) => message.includes(reason))) Deno.exit(1);
  }
}

await step(async () => {
  await buildBinaries({ onProgress: progress, force });
}, ["needs the Go toolchain"]);

await step(async () => {
  if (Deno.uid() !== 0) {
    throw new Error(
      "Real nodes need root (network namespaces, iptables, cgroups, mounts): the tests that run pods fail without it",
    );
  }
  await ensureHostPackages({
    install: true,
    packages: [...NODE_PACKAGES, ...SHELL_PACKAGES, ...PROXY_PACKAGES],
    onProgress: progress,
  });
  const swept = sweepStaleTestEnvs();
  if (swept.length > 0) progress(`Removed what killed test runs left in slots ${swept.join(", ")}`);
  const binaries = await buildNodeBinaries({ onProgress: progress, force });
  const started = Date.now();
  await buildTestImages({ binaries, onProgress: progress });
  progress(`Test images ready (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}, ["needs the Go toolchain", "need root", "needs root"]);
