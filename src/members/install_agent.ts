/**
 * `mca agent install`: registers a member with the hub (Cluster object and token hash on the
 * host), applies the agent to the member, and waits until the hub reports it connected.
 * Running it again changes nothing: the token is kept while the member still holds it.
 */
import { KubeApiError, type KubeClient, type ManifestHead, manifestPath } from "../kube/mod.ts";
import { computeCaPin } from "../pki/mod.ts";
import { waitFor } from "../common/mod.ts";
import { hashToken, issueAgentToken, registeredTokenHash } from "./agent_tokens.ts";
import { AGENT_NAME, agentManifests } from "./agent_manifests.ts";
import { AGENT_INSTALL_DEFAULTS, type AgentEgress } from "./agent_install_options.ts";

/** Inputs of an install. */
export interface InstallAgentOptions {
  cluster: string;
  hubUrl: string;
  /** The hub's namespace on the host (CA Secret, token hashes). */
  hubNamespace: string;
  hubCaSecret?: string;
  agentNamespace: string;
  image?: string;
  replicas?: number;
  /**
   * Set only to run every request as the agent (Kopilot's model): the Cluster gets
   * `spec.identity: AgentServiceAccount` and the agent is bound to this ClusterRole.
   */
  agentClusterRole?: string;
  /** The agent's proxy environment and keepalive interval. */
  egress?: AgentEgress;
  /** Adds a PodMonitor for the agents' /metrics (needs the Prometheus Operator's CRDs). */
  podMonitor?: boolean;
  /** Wait for the Connected condition this long; 0 skips waiting. */
  waitMs: number;
  progress: (message: string) => void;
}

/** What changed. */
export interface InstallResult {
  tokenChanged: boolean;
  applied: string[];
}

/** The field manager of every object install applies (uninstall reads it from managedFields). */
export const FIELD_MANAGER = "mca-agent-install";

/** Installs or updates the agent of one member cluster. */
export async function installAgent(
  host: KubeClient,
  member: KubeClient,
  options: InstallAgentOptions,
): Promise<InstallResult> {
  // The hub CA first: without it nothing is registered or applied.
  const hubCaPem = await readHubCa(host, options.hubNamespace, options.hubCaSecret);
  await registerCluster(host, options);
  const hubCaPin = await computeCaPin(hubCaPem);
  const { token, changed } = await settleToken(host, member, options);
  const manifests = agentManifests({
    cluster: options.cluster,
    hubUrl: options.hubUrl,
    namespace: options.agentNamespace,
    ...(options.image ? { image: options.image } : {}),
    ...(options.replicas ? { replicas: options.replicas } : {}),
    ...(options.agentClusterRole ? { agentClusterRole: options.agentClusterRole } : {}),
    ...(options.egress ? { egress: options.egress } : {}),
    ...(options.podMonitor ? { podMonitor: true } : {}),
    token,
    hubCaPem,
    hubCaPin,
  });
  const applied = await applyToMember(member, manifests, options.progress);
  // Back to impersonation: the agent must not keep the rights of an earlier opt-in.
  if (!options.agentClusterRole) await removeActingAsItself(member, options.progress);
  if (options.waitMs > 0) await waitConnected(host, options);
  return { tokenChanged: changed, applied };
}

/** The hub's CA certificate, from its Secret on the host. */
export async function readHubCa(
  host: KubeClient,
  hubNamespace: string,
  hubCaSecret: string | undefined,
): Promise<string> {
  const caSecretName = hubCaSecret ?? AGENT_INSTALL_DEFAULTS.hubCaSecret;
  const caSecret = await host.get<{ data?: Record<string, string> }>(
    `/api/v1/namespaces/${hubNamespace}/secrets/${caSecretName}`,
  ).catch((error) => {
    if (error instanceof KubeApiError && error.code === 404) return undefined;
    throw error;
  });
  const hubCaPem = caSecret?.data?.["ca.crt"] ? atob(caSecret.data["ca.crt"]) : undefined;
  if (!hubCaPem) {
    throw new Error(
      `The hub's CA Secret "${caSecretName}" (with ca.crt) was not found in namespace "${hubNamespace}": ` +
        "is the hub running there? (--hub-namespace, and --hub-ca-secret if the hub runs with another --ca-secret)",
    );
  }
  return hubCaPem;
}

/** The Cluster object on the host, with the identity its requests run as (and its mapping's defaults). */
async function registerCluster(host: KubeClient, options: InstallAgentOptions): Promise<void> {
  const { cluster } = options;
  options.progress(`Registering cluster "${cluster}" on the host`);
  await host.patch(
    `/apis/mca.k8s.io/v1alpha1/clusters/${cluster}`,
    {
      apiVersion: "mca.k8s.io/v1alpha1",
      kind: "Cluster",
      metadata: { name: cluster },
      spec: {
        identity: options.agentClusterRole ? "AgentServiceAccount" : "Impersonate",
        // Present so the CRD's defaults show how callers are mapped; its fields are the user's.
        identityMapping: {},
      },
    },
    "apply",
    { fieldManager: FIELD_MANAGER, force: true },
  ).catch((error) => {
    if (error instanceof KubeApiError && error.code === 404) {
      throw new Error(
        "The Cluster CRD (clusters.mca.k8s.io) is missing on the host: install the hub first",
      );
    }
    throw error;
  });
}

/** Keeps the token the member already has if the host still accepts it; else registers a new one. */
async function settleToken(
  host: KubeClient,
  member: KubeClient,
  options: InstallAgentOptions,
): Promise<{ token: string; changed: boolean }> {
  const { cluster } = options;
  const existing = await member.get<{ data?: Record<string, string> }>(
    `/api/v1/namespaces/${options.agentNamespace}/secrets/${AGENT_NAME}`,
  ).catch(() => undefined);
  const existingToken = existing?.data?.token ? atob(existing.data.token) : undefined;
  const registered = await registeredTokenHash(host, options.hubNamespace, cluster);
  if (existingToken !== undefined && (await hashToken(existingToken)) === registered) {
    return { token: existingToken, changed: false };
  }
  options.progress(
    "Creating a new agent token (its hash is stored on the host, the token only in the member)",
  );
  const token = await issueAgentToken(host, options.hubNamespace, cluster);
  return { token, changed: true };
}

/** Server-side applies the manifests in order; their kind/name as applied. */
async function applyToMember(
  member: KubeClient,
  manifests: Record<string, unknown>[],
  progress: (message: string) => void,
): Promise<string[]> {
  const applied: string[] = [];
  for (const manifest of manifests) {
    const typed = manifest as unknown as ManifestHead;
    const { kind, metadata } = typed;
    progress(
      `Applying ${kind} ${
        metadata.namespace ? `${metadata.namespace}/` : ""
      }${metadata.name} to the member`,
    );
    await member.patch(
      manifestPath(typed),
      manifest,
      "apply",
      { fieldManager: FIELD_MANAGER, force: true },
    );
    applied.push(`${kind}/${metadata.name}`);
  }
  return applied;
}

async function removeActingAsItself(
  member: KubeClient,
  progress: (message: string) => void,
): Promise<void> {
  const binding =
    `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${AGENT_NAME}-acts-as-itself`;
  const removed = await member.delete(binding).then(() => true, (error) => {
    if (error instanceof KubeApiError && error.code === 404) return false;
    throw error;
  });
  if (removed) progress(`Removed ClusterRoleBinding ${AGENT_NAME}-acts-as-itself`);
}

/** Waits until the hub reports the cluster's Connected condition. */
async function waitConnected(host: KubeClient, options: InstallAgentOptions): Promise<void> {
  const { cluster } = options;
  options.progress(
    `Waiting up to ${
      Math.round(options.waitMs / 1000)
    } s for the hub to report "${cluster}" connected`,
  );
  await waitFor(async () => {
    const object = await host.get<
      { status?: { conditions?: { type: string; status: string }[] } }
    >(
      `/apis/mca.k8s.io/v1alpha1/clusters/${cluster}`,
    );
    return object.status?.conditions?.some((c) => c.type === "Connected" && c.status === "True");
  }, {
    timeoutMs: options.waitMs,
    intervalMs: 1_000,
    description: `cluster "${cluster}" to connect`,
  });
  options.progress(`Cluster "${cluster}" is connected`);
}
