/** `mca agent install` and `mca agent manifest`. */
import { stringify } from "yaml";
import {
  AGENT_INSTALL_DEFAULTS,
  type AgentInstallOptions,
  agentManifestsForCa,
  installAgent,
  parseJoinToken,
  resolveAgentEgress,
  withClusterClients,
} from "../members/mod.ts";
import { parseDuration } from "../common/mod.ts";
import { UsageError } from "./run_program.ts";

/** Registers the member and applies the agent, with progress on stderr. */
export async function agentInstallCommand(
  options: AgentInstallOptions,
  io: { stdout(text: string): void; stderr(text: string): void },
): Promise<void> {
  if (!options.hub) {
    throw new UsageError("--hub is required, e.g. --hub https://hub.example.com:9443");
  }
  if (!options.cluster) throw new UsageError("--cluster is required: the member's name on the hub");
  if (options.dryRun) return await agentManifestCommand(options, io);
  if (!options.memberKubeconfig && !options.memberContext) {
    // Both default to the host's kubeconfig and context: the agent would land on the host.
    throw new UsageError(
      "Name the member cluster with --member-context or --member-kubeconfig " +
        "(without them the agent would be installed in the host cluster)",
    );
  }
  const waitMs = options.wait === "0"
    ? 0
    : parseDuration(options.wait ?? AGENT_INSTALL_DEFAULTS.wait, "--wait");
  const egress = usage(() => resolveAgentEgress(options));
  const hostRef = { kubeconfig: options.kubeconfig, context: options.context };
  const memberRef = {
    kubeconfig: options.memberKubeconfig ?? options.kubeconfig,
    context: options.memberContext,
  };
  const result = await withClusterClients(
    [hostRef, memberRef],
    ([host, member]) =>
      installAgent(host!, member!, {
        cluster: options.cluster!,
        hubUrl: options.hub!,
        hubNamespace: options.hubNamespace ?? AGENT_INSTALL_DEFAULTS.hubNamespace,
        ...(options.hubCaSecret ? { hubCaSecret: options.hubCaSecret } : {}),
        agentNamespace: options.agentNamespace ?? AGENT_INSTALL_DEFAULTS.agentNamespace,
        ...(options.image ? { image: options.image } : {}),
        ...(options.replicas ? { replicas: Number(options.replicas) } : {}),
        ...(options.actAsAgent ? { agentClusterRole: options.actAsAgent } : {}),
        ...(options.podMonitor ? { podMonitor: true } : {}),
        egress,
        waitMs,
        progress: (message) => io.stderr(`${message}\n`),
      }),
  );
  io.stderr(
    `Done: ${result.applied.length} objects applied; token ${
      result.tokenChanged ? "created" : "unchanged"
    }\n`,
  );
}

/**
 * Prints the member manifests (for GitOps): with --join-token, complete (the agent redeems it);
 * without, the token is a placeholder.
 */
export async function agentManifestCommand(
  options: AgentInstallOptions,
  io: { stdout(text: string): void },
): Promise<void> {
  if (!options.hub || !options.cluster) throw new UsageError("--hub and --cluster are required");
  if (!options.hubCaFile) throw new UsageError("--hub-ca-file is required to print the manifests");
  const hubCaPem = await Deno.readTextFile(options.hubCaFile);
  const manifests = await agentManifestsForCa({
    cluster: options.cluster,
    hubUrl: options.hub,
    namespace: options.agentNamespace ?? AGENT_INSTALL_DEFAULTS.agentNamespace,
    ...(options.image ? { image: options.image } : {}),
    ...(options.replicas ? { replicas: Number(options.replicas) } : {}),
    ...(options.actAsAgent ? { agentClusterRole: options.actAsAgent } : {}),
    ...(options.podMonitor ? { podMonitor: true } : {}),
    egress: usage(() => resolveAgentEgress(options)),
    ...(options.joinToken ? { joinToken: usage(() => checkJoinToken(options.joinToken!)) } : {}),
    ...(options.tokenRotationInterval
      ? { tokenRotationInterval: usage(() => checkInterval(options.tokenRotationInterval!)) }
      : {}),
    hubCaPem,
  });
  io.stdout(manifests.map((m) => stringify(m, { lineWidth: 0 })).join("---\n"));
}

function checkJoinToken(text: string): string {
  if (!parseJoinToken(text)) {
    throw new Error(
      "Invalid --join-token: expected <id>.<secret> as printed by mca agent token create",
    );
  }
  return text.trim();
}

function checkInterval(text: string): string {
  if (text !== "0") parseDuration(text, "--token-rotation-interval");
  return text;
}

/** Runs a flag check; its message becomes a usage error. */
function usage<T>(check: () => T): T {
  try {
    return check();
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}
