/**
 * End-to-end test helpers: one set of real clusters (host, east, west) shared by every test
 * in the run, started on first use and torn down when the test process exits.
 */
import { type CommandResult, runCommand } from "./run_command.ts";
import {
  killAllTestEnvs,
  kubectlPath,
  startTestEnv,
  type TestCluster,
  type TestEnv,
} from "../../src/testenv/mod.ts";

let shared: Promise<TestEnv> | undefined;

/** The shared clusters; tests must use their own namespaces (see src/testenv/README.md). */
export function sharedTestEnv(): Promise<TestEnv> {
  if (!shared) {
    shared = startTestEnv();
    // Ctrl-C during a test run: stop the clusters before exiting (the unload hook does it otherwise).
    const interrupted = () => {
      killAllTestEnvs();
      Deno.exit(130);
    };
    Deno.addSignalListener("SIGINT", interrupted);
    Deno.addSignalListener("SIGTERM", interrupted);
  }
  return shared;
}

/**
 * A test against the shared clusters. Resource and op sanitizers are off because the clusters
 * deliberately outlive each test; everything else a test opens it must close itself.
 */
export function e2eTest(name: string, fn: (env: TestEnv) => Promise<void>): void {
  Deno.test({
    name,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: async () => fn(await sharedTestEnv()),
  });
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
