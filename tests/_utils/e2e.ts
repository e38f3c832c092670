/**
 * End-to-end test helpers: one set of real clusters (host, east, west) shared by every test
 * in the run, started on first use and torn down when the test process exits; and a second
 * set with real nodes for the tests that run pods (`{ nodes: true }`).
 */
import { type CommandResult, runCommand } from "./run_command.ts";
import {
  killAllTestEnvs,
  kubectlPath,
  startTestEnv,
  type TestCluster,
  type TestEnv,
} from "../../src/testenv/mod.ts";

const shared = new Map<boolean, Promise<TestEnv>>();
let signalsHooked = false;

// kubectl caches discovery per server address in ~/.kube/cache, for hours: test API servers
// reuse addresses from run to run with other CRDs and APIServices, so every kubectl of this
// test process (and of helpers it starts) gets a cache of its own.
if (!Deno.env.get("KUBECACHEDIR")) {
  const cache = Deno.makeTempDirSync({ prefix: "mca-kubectl-cache-" });
  Deno.env.set("KUBECACHEDIR", cache);
  globalThis.addEventListener("unload", () => Deno.removeSync(cache, { recursive: true }));
}

/** Options of sharedTestEnv and e2eTest. */
export interface SharedTestEnvOptions {
  /**
   * Clusters with a real node each (containerd, kubelet, kube-proxy), kube-controller-manager,
   * kube-scheduler and CoreDNS: pods run. Needs root. Default false: API servers only.
   */
  nodes?: boolean;
}

/**
 * The shared clusters (with nodes or without: two separate sets); tests must use their own
 * namespaces (see src/testenv/README.md).
 */
export function sharedTestEnv(options: SharedTestEnvOptions = {}): Promise<TestEnv> {
  const nodes = options.nodes ?? false;
  let env = shared.get(nodes);
  if (!env) {
    // The clusters with nodes log requests through mca's aggregated entrance (MCA_AUDIT_POLICY:
    // nothing else is logged, so it costs the other tests nothing).
    env = startTestEnv({ nodes, ...(nodes ? { audit: true } : {}) });
    shared.set(nodes, env);
  }
  if (!signalsHooked) {
    signalsHooked = true;
    // Ctrl-C during a test run: stop the clusters before exiting (the unload hook does it otherwise).
    const interrupted = () => {
      killAllTestEnvs();
      Deno.exit(130);
    };
    Deno.addSignalListener("SIGINT", interrupted);
    Deno.addSignalListener("SIGTERM", interrupted);
  }
  return env;
}

/**
 * A test against the shared clusters. Resource and op sanitizers are off because the clusters
 * deliberately outlive each test; everything else a test opens it must close itself.
 */
export function e2eTest(
  name: string,
  fn: (env: TestEnv) => Promise<void>,
  options: SharedTestEnvOptions = {},
): void {
  Deno.test({
    name,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: async () => fn(await sharedTestEnv(options)),
  });
}

/**
 * A fixture built on first use and shared by the later tests of the file, in a folder of its own
 * that is removed when the test process exits.
 */
export function sharedFixture<T>(
  prefix: string,
  build: (env: TestEnv, dir: string) => Promise<T>,
): (env: TestEnv) => Promise<T> {
  let fixture: Promise<T> | undefined;
  return (env) =>
    fixture ??= (async () => {
      const dir = await Deno.makeTempDir({ prefix });
      globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
      return await build(env, dir);
    })();
}

/** A namespace name nobody else uses (namespaces never finish deleting here). */
export function uniqueName(prefix: string): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}

/** Result of a kubectl run. */
export type KubectlResult = CommandResult;

/** Runs the real kubectl against one cluster (its own kubeconfig) or any kubeconfig file. */
export async function kubectl(
  target: TestCluster | string,
  args: string[],
  options: { stdin?: string; env?: Record<string, string> } = {},
): Promise<KubectlResult> {
  const kubeconfig = typeof target === "string" ? target : target.kubeconfigPath;
  return await runCommand(await kubectlPath(), [`--kubeconfig=${kubeconfig}`, ...args], options);
}

/** Runs kubectl and fails with its stderr unless it succeeds; returns stdout. */
export async function kubectlOk(
  target: TestCluster | string,
  args: string[],
  options: { stdin?: string } = {},
): Promise<string> {
  const result = await kubectl(target, args, options);
  if (result.code !== 0) {
    throw new Error(`kubectl ${args.join(" ")} failed (${result.code}): ${result.stderr}`);
  }
  return result.stdout;
}
