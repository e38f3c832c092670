/** `mca agent uninstall`. */
import {
  AGENT_INSTALL_DEFAULTS,
  type AgentUninstallOptions,
  uninstallAgent,
  type UninstallResult,
  withClusterClients,
} from "../members/mod.ts";
import { parseDuration } from "../common/mod.ts";
import { UsageError } from "./run_program.ts";

/** Deletes what `mca agent install` created, with progress on stderr. */
export async function agentUninstallCommand(
  options: AgentUninstallOptions,
  io: { stdout(text: string): void; stderr(text: string): void },
): Promise<void> {
  if (!options.cluster) throw new UsageError("--cluster is required: the member's name on the hub");
  if (options.hostOnly) return await uninstallHostOnly(options, io);
  if (!options.memberKubeconfig && !options.memberContext) {
    // Both default to the host's kubeconfig and context: the host's own objects would be looked at.
    throw new UsageError(
      "Name the member cluster with --member-context or --member-kubeconfig " +
        "(without them the agent would be looked for in the host cluster)",
    );
  }
  const wait = waitMs(options.wait);
  const hostRef = { kubeconfig: options.kubeconfig, context: options.context };
  const memberRef = {
    kubeconfig: options.memberKubeconfig ?? options.kubeconfig,
    context: options.memberContext,
  };
  const dryRun = options.dryRun ?? false;
  const result = await withClusterClients(
    [hostRef, memberRef],
    ([host, member]) =>
      uninstallAgent(host!, member!, {
        cluster: options.cluster!,
        hubNamespace: options.hubNamespace ?? AGENT_INSTALL_DEFAULTS.hubNamespace,
        agentNamespace: options.agentNamespace ?? AGENT_INSTALL_DEFAULTS.agentNamespace,
        dryRun,
        waitMs: wait,
        progress: (message) => io.stderr(`${message}\n`),
      }),
  );
  report(result, dryRun, io);
}

/** `--host-only`: the Cluster, token and join tokens on the host; the member is not reached. */
async function uninstallHostOnly(
  options: AgentUninstallOptions,
  io: { stdout(text: string): void; stderr(text: string): void },
): Promise<void> {
  if (options.memberKubeconfig || options.memberContext || options.wait !== undefined) {
    throw new UsageError(
      "--host-only does not reach the member: drop --member-context, --member-kubeconfig and --wait",
    );
  }
  const dryRun = options.dryRun ?? false;
  io.stderr(
    "Leaving the member alone (--host-only): its agent, if any, is refused by the hub from now " +
      "on; delete it there with kubectl delete -f on its manifests, or remove them from GitOps\n",
  );
  const result = await withClusterClients(
    [{ kubeconfig: options.kubeconfig, context: options.context }],
    ([host]) =>
      uninstallAgent(host!, undefined, {
        cluster: options.cluster!,
        hubNamespace: options.hubNamespace ?? AGENT_INSTALL_DEFAULTS.hubNamespace,
        agentNamespace: options.agentNamespace ?? AGENT_INSTALL_DEFAULTS.agentNamespace,
        dryRun,
        waitMs: 0,
        progress: (message) => io.stderr(`${message}\n`),
      }),
  );
  report(result, dryRun, io);
}

function report(
  result: UninstallResult,
  dryRun: boolean,
  io: { stdout(text: string): void; stderr(text: string): void },
): void {
  // The dry run's answer is the list itself, on stdout for scripts.
  if (dryRun) { for (const object of result.deleted) io.stdout(`${object}\n`); }
  io.stderr(
    `Done: ${result.deleted.length} ${dryRun ? "would be deleted" : "deleted"}, ` +
      `${result.alreadyGone.length} already gone, ${result.kept.length} kept\n`,
  );
}

/** No `--wait`: 0; `--wait` alone: install's deadline; `--wait=<duration>`: that. */
function waitMs(wait: string | true | undefined): number {
  if (wait === undefined || wait === "0") return 0;
  try {
    return parseDuration(wait === true ? AGENT_INSTALL_DEFAULTS.wait : wait, "--wait");
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}
