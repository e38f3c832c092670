/** `mca agent token create`: a join token for a member, with what its manifests need. */
import {
  AGENT_INSTALL_DEFAULTS,
  createJoinToken,
  readHubCa,
  withClusterClients,
} from "../members/mod.ts";
import { parseDuration } from "../common/mod.ts";
import { computeCaPin } from "../pki/mod.ts";
import { UsageError } from "./run_program.ts";

/** Flags of `mca agent token create`. */
export interface AgentTokenCreateOptions {
  cluster?: string;
  hub?: string;
  ttl?: string;
  kubeconfig?: string;
  context?: string;
  hubNamespace?: string;
  hubCaSecret?: string;
}

/** The default lifetime of a join token. */
export const JOIN_TOKEN_TTL = "1h";

/** Creates a join token on the host; prints it, the hub, the CA pin and the next step. */
export async function agentTokenCreateCommand(
  options: AgentTokenCreateOptions,
  io: { stdout(text: string): void },
): Promise<void> {
  if (!options.cluster) throw new UsageError("--cluster is required: the member's name on the hub");
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(options.cluster) || options.cluster.length > 63) {
    throw new UsageError(`Invalid --cluster "${options.cluster}": a DNS label is expected`);
  }
  if (!options.hub) {
    throw new UsageError("--hub is required: the hub as the member's agents reach it");
  }
  let ttlMs;
  try {
    ttlMs = parseDuration(options.ttl ?? JOIN_TOKEN_TTL, "--ttl");
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const hubNamespace = options.hubNamespace ?? AGENT_INSTALL_DEFAULTS.hubNamespace;
  const caSecret = options.hubCaSecret ?? AGENT_INSTALL_DEFAULTS.hubCaSecret;
  const { token, expiresAt, pin } = await withClusterClients(
    [{ kubeconfig: options.kubeconfig, context: options.context }],
    async ([host]) => {
      const pin = await computeCaPin(await readHubCa(host!, hubNamespace, caSecret));
      return {
        ...await createJoinToken(host!, hubNamespace, { cluster: options.cluster!, ttlMs }),
        pin,
      };
    },
  );
  io.stdout(
    [
      `Join token for cluster "${options.cluster}" (single use, expires ${expiresAt.toISOString()}):`,
      "",
      `  ${token}`,
      "",
      `Hub:        ${options.hub}`,
      `Hub CA pin: ${pin}`,
      "",
      "The member side, as static manifests (apply them with kubectl or commit them for Argo CD or Flux;",
      "the hub CA is in the Secret " +
      `"${caSecret}" of namespace "${hubNamespace}", key ca.crt):`,
      "",
      `  mca agent manifest --hub=${options.hub} --cluster=${options.cluster} --hub-ca-file=hub-ca.crt \\`,
      `    --join-token=${token} | kubectl --context=<member> apply -f -`,
      "",
    ].join("\n"),
  );
}
