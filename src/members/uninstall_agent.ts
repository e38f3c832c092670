/**
 * `mca agent uninstall`: deletes what `mca agent install` created, the agent's objects on the
 * member (Deployment first, so the agents stop before their credentials go) and then the
 * Cluster, the token hash and the cluster's join tokens on the host. It deletes only objects that carry install's marks
 * (its labels, its field manager), and keeps a namespace that existed before install or that
 * holds objects of others. Running it again finds everything already gone.
 */
import {
  KubeApiError,
  type KubeClient,
  type KubeObject,
  type ManifestHead,
  manifestPath,
} from "../kube/mod.ts";
import { waitFor } from "../common/mod.ts";
import { hostTargets, joinTokenTargets, managers, type Target } from "./uninstall_targets.ts";
import { AGENT_LABELS, AGENT_NAME, agentManifests } from "./agent_manifests.ts";
import { FIELD_MANAGER } from "./install_agent.ts";
import { foreignObjects } from "./_foreign_objects.ts";

/** Inputs of an uninstall. */
export interface UninstallAgentOptions {
  cluster: string;
  /** The hub's namespace on the host (token hashes). */
  hubNamespace: string;
  agentNamespace: string;
  /** Only report what would be deleted (the API server checks each deletion, as a dry run). */
  dryRun: boolean;
  /** Wait this long for the agent's pods on the member to be gone; 0 skips waiting. */
  waitMs: number;
  progress: (message: string) => void;
}

/** What happened to each object, as "Kind name on the member|host". */
export interface UninstallResult {
  /** Deleted, or in a dry run, would be. */
  deleted: string[];
  alreadyGone: string[];
  /** Found but not install's (the reason is in the progress). */
  kept: string[];
}

type Outcome = keyof UninstallResult;

/**
 * Uninstalls the agent of one member cluster; without a member client only the host's objects
 * (a member that is gone, or whose agent GitOps removes).
 */
export async function uninstallAgent(
  host: KubeClient,
  member: KubeClient | undefined,
  options: UninstallAgentOptions,
): Promise<UninstallResult> {
  const result: UninstallResult = { deleted: [], alreadyGone: [], kept: [] };
  const on = (client: KubeClient) => (target: Target): [KubeClient, Target] => [client, target];
  const targets: [KubeClient, Target][] = [
    ...(member
      ? [
        ...memberTargets(member, options.agentNamespace).map(on(member)),
        on(member)(namespaceTarget(member, options.agentNamespace)),
      ]
      : []),
    ...hostTargets(options).map(on(host)),
    ...(await joinTokenTargets(host, options)).map(on(host)),
  ];
  for (const [client, target] of targets) {
    result[await removeTarget(client, target, options)].push(target.description);
  }
  if (member && options.waitMs > 0 && !options.dryRun) await waitPodsGone(member, options);
  return result;
}

/**
 * The agent's objects but its namespace, in the reverse of install's order. The list comes from
 * the manifests install applies (with the opt-in binding), so the two cannot drift apart.
 */
function memberTargets(member: KubeClient, namespace: string): Target[] {
  const heads = agentManifests({
    cluster: "-",
    hubUrl: "-",
    namespace,
    hubCaPem: "",
    hubCaPin: "",
    agentClusterRole: "-",
    podMonitor: true,
  }) as unknown as ManifestHead[];
  return heads.filter((head) => head.kind !== "Namespace").reverse().map((head) => ({
    description: `${head.kind} ${qualifiedName(head)} on the member`,
    path: manifestPath(head),
    notOurs: (object) => missingLabels(object) ?? otherAgentsRbac(member, head, namespace, object),
  }));
}

/**
 * Cluster-scoped RBAC has one name per member: when it serves an agent installed in another
 * namespace (the impersonator ClusterRole through its binding), it is that install's.
 */
async function otherAgentsRbac(
  member: KubeClient,
  head: ManifestHead,
  namespace: string,
  object: KubeObject,
): Promise<string | undefined> {
  let binding: KubeObject | undefined = object;
  if (head.kind === "ClusterRole") {
    binding = await getObject(
      member,
      `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${head.metadata.name}`,
    );
  } else if (head.kind !== "ClusterRoleBinding") return undefined;
  const subjects = (binding?.subjects ?? []) as {
    kind: string;
    name: string;
    namespace?: string;
  }[];
  const other = subjects.find((s) => s.kind === "ServiceAccount" && s.namespace !== namespace);
  return other ? `it serves the agent in namespace "${other.namespace}"` : undefined;
}

/** The agent's namespace, only if install created it and it holds nothing of others. */
function namespaceTarget(member: KubeClient, namespace: string): Target {
  return {
    description: `Namespace ${namespace} on the member`,
    path: `/api/v1/namespaces/${encodeURIComponent(namespace)}`,
    notOurs: async (object) => {
      const unlabelled = missingLabels(object);
      if (unlabelled) return unlabelled;
      const managers = otherManagers(object);
      if (managers.length > 0) {
        return `it existed before mca agent install or others manage it too (${
          managers.join(", ")
        })`;
      }
      const others = await foreignObjects(member, namespace, {
        ours: (item) => missingLabels(item) === undefined,
      });
      return others.length > 0
        ? `it holds objects mca agent install did not create: ${others.join(", ")}`
        : undefined;
    },
    release: (object, options) => releaseNamespaceLabels(member, object, options),
  };
}

/**
 * A namespace that existed before install got install's labels: an apply with no fields gives
 * up every field install alone owns (server-side apply), and leaves the rest as it was.
 */
async function releaseNamespaceLabels(
  member: KubeClient,
  namespace: KubeObject,
  options: UninstallAgentOptions,
): Promise<void> {
  // A namespace install created alone keeps its labels: a later uninstall may still delete it.
  if (!managers(namespace).includes(FIELD_MANAGER) || otherManagers(namespace).length === 0) return;
  const name = namespace.metadata?.name ?? options.agentNamespace;
  options.progress(
    `${options.dryRun ? "Would remove" : "Removing"} the labels mca agent install set ` +
      `on Namespace ${name} on the member`,
  );
  await member.patch(
    `/api/v1/namespaces/${encodeURIComponent(name)}`,
    { apiVersion: "v1", kind: "Namespace", metadata: { name } },
    "apply",
    { fieldManager: FIELD_MANAGER, dryRun: options.dryRun },
  );
}

/** One step: look, check it is install's, delete (only that very object, by its uid). */
async function removeTarget(
  client: KubeClient,
  target: Target,
  options: UninstallAgentOptions,
): Promise<Outcome> {
  const object = await getObject(client, target.path);
  if (!object || object.metadata?.deletionTimestamp) {
    options.progress(`${target.description}: already ${object ? "being deleted" : "gone"}`);
    return "alreadyGone";
  }
  const reason = await target.notOurs(object);
  if (reason) {
    options.progress(`Keeping ${target.description}: ${reason}`);
    await target.release?.(object, options);
    return "kept";
  }
  options.progress(`${options.dryRun ? "Would delete" : "Deleting"} ${target.description}`);
  const uid = object.metadata?.uid;
  try {
    await client.delete(target.path, {
      dryRun: options.dryRun,
      propagationPolicy: "Background",
      ...(uid ? { preconditions: { uid } } : {}),
    });
  } catch (error) {
    // Gone meanwhile: the outcome the user asked for.
    if (error instanceof KubeApiError && error.code === 404) return "alreadyGone";
    throw error;
  }
  return "deleted";
}

/** Waits until no pod of the agent is left in its namespace on the member. */
async function waitPodsGone(member: KubeClient, options: UninstallAgentOptions): Promise<void> {
  const namespace = options.agentNamespace;
  options.progress(
    `Waiting up to ${
      Math.round(options.waitMs / 1000)
    } s for the agent's pods in namespace "${namespace}" to be gone`,
  );
  await waitFor(async () => {
    const pods = await member.list(
      `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`,
      { labelSelector: `app.kubernetes.io/name=${AGENT_NAME}` },
    );
    if (pods.items.length === 0) return true;
    // Thrown, so that the timeout error names the pods still there.
    throw new Error(`still there: ${pods.items.map((pod) => pod.metadata?.name).join(", ")}`);
  }, {
    timeoutMs: options.waitMs,
    intervalMs: 1_000,
    description: `the agent's pods in namespace "${namespace}" on the member to be gone`,
  });
  options.progress("The agent's pods are gone");
}

/** The object at `path`, or undefined when there is none. */
async function getObject(client: KubeClient, path: string): Promise<KubeObject | undefined> {
  try {
    return await client.get(path);
  } catch (error) {
    if (error instanceof KubeApiError && error.code === 404) return undefined;
    throw error;
  }
}

function missingLabels(object: KubeObject): string | undefined {
  const labels = object.metadata?.labels ?? {};
  const missing = Object.entries(AGENT_LABELS).filter(([key, value]) => labels[key] !== value);
  return missing.length > 0
    ? `it lacks the labels mca agent install sets (${
      missing.map(([k, v]) => `${k}=${v}`).join(", ")
    })`
    : undefined;
}

/** Field managers other than install's: someone else created or changed the object. */
function otherManagers(object: KubeObject): string[] {
  return managers(object).filter((manager) => manager !== FIELD_MANAGER);
}

function qualifiedName(head: ManifestHead): string {
  return head.metadata.namespace
    ? `${head.metadata.namespace}/${head.metadata.name}`
    : head.metadata.name;
}
