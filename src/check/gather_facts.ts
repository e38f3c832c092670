/** Gathers what the checks judge, with the caller's credentials: the only I/O of `mca check`. */
import type { ClientConfig, KubeClient } from "../kube/mod.ts";
import type { CheckFacts, ClusterFacts, Fetched, VerbAccess } from "./check_facts.ts";
import type { ResolvedCheckOptions } from "./check_options.ts";
import { type CheckIo, fetched } from "./gather_common.ts";
import { gatherHub } from "./gather_hub.ts";
import { gatherWebhook } from "./gather_webhook.ts";

const CLUSTERS = "/apis/mca.k8s.io/v1alpha1/clusters";
/** The group the hub authorizes clusters/proxy in (src/hub/user_access.ts). */
const MEMBER_GROUP = "mca.k8s.io";
/** The aggregated entrance's group, which the host API server authorizes first. */
const AGGREGATED_GROUP = "proxy.mca.k8s.io";

/** The caller's API client and where it came from. */
export interface CheckTarget {
  client: KubeClient;
  config: Pick<ClientConfig, "server" | "source" | "namespace">;
}

/** Gathers every fact; after an unreachable API server, nothing else. */
export async function gatherFacts(
  target: CheckTarget,
  options: ResolvedCheckOptions,
  io: CheckIo & { now(): Date },
): Promise<CheckFacts> {
  const { client, config } = target;
  const base = { now: io.now(), namespace: options.namespace };
  const origin = { server: config.server, source: config.source };
  const version = await client.get<{ gitVersion?: string }>("/version").catch((e: Error) => e);
  if (version instanceof Error) return { ...base, api: { ...origin, error: version.message } };
  const [webhook, hub, clusters] = await Promise.all([
    gatherWebhook(client, {
      namespace: options.namespace,
      configurationName: options.webhookConfiguration,
      caSecretName: options.webhookCaSecret,
      callerNamespace: config.namespace,
    }, io),
    gatherHub(client, {
      namespace: options.namespace,
      caSecretName: options.hubCaSecret,
      service: options.hubService,
      ...(options.hubUrl ? { hubUrl: options.hubUrl } : {}),
    }, io),
    gatherClusters(client),
  ]);
  return {
    ...base,
    now: io.now(),
    api: { ...origin, version: version.gitVersion ?? "unknown version" },
    webhook,
    hub,
    clusters,
    access: await gatherAccess(
      client,
      clusters.ok ? clusters.value.map((c) => c.name) : [],
      // The aggregated entrance adds the host's own check in its group (src/hub/aggregated_api.ts).
      hub.apiService?.ok ? [MEMBER_GROUP, AGGREGATED_GROUP] : [MEMBER_GROUP],
    ),
  };
}

type ClusterObject = {
  metadata: { name: string };
  status?: {
    connectedAgents?: number;
    lastHeartbeat?: string;
    memberVersion?: string;
    conditions?: {
      type: string;
      status: string;
      reason?: string;
      message?: string;
      lastTransitionTime?: string;
    }[];
  };
};

async function gatherClusters(client: KubeClient): Promise<Fetched<ClusterFacts[]>> {
  return await fetched(
    client.list<ClusterObject>(CLUSTERS).then((list) =>
      list.items.map((item): ClusterFacts => {
        const status = item.status ?? {};
        const condition = status.conditions?.find((c) => c.type === "Connected");
        return {
          name: item.metadata.name,
          ...(status.connectedAgents !== undefined
            ? { connectedAgents: status.connectedAgents }
            : {}),
          ...(status.lastHeartbeat ? { lastHeartbeat: new Date(status.lastHeartbeat) } : {}),
          ...(status.memberVersion ? { memberVersion: status.memberVersion } : {}),
          ...(condition
            ? {
              connected: {
                status: condition.status,
                ...(condition.reason ? { reason: condition.reason } : {}),
                ...(condition.message ? { message: condition.message } : {}),
                ...(condition.lastTransitionTime
                  ? { since: new Date(condition.lastTransitionTime) }
                  : {}),
              },
            }
            : {}),
        };
      })
    ),
  );
}

/**
 * SelfSubjectAccessReviews for `get` and `create` on clusters/proxy in each group, the attributes
 * the hub (and the host, for the aggregated entrance) asks about: first for every cluster, then
 * per Cluster object.
 */
async function gatherAccess(
  client: KubeClient,
  clusters: string[],
  groups: string[],
): Promise<VerbAccess[]> {
  const pairs = groups.flatMap((group) => ["get", "create"].map((verb) => ({ group, verb })));
  return await Promise.all(
    pairs.map(({ group, verb }) => verbAccess(client, clusters, group, verb)),
  );
}

async function verbAccess(
  client: KubeClient,
  clusters: string[],
  group: string,
  verb: string,
): Promise<VerbAccess> {
  const allowed = async (name?: string) => {
    const review = await client.create<{ status?: { allowed?: boolean } }>(
      "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
      {
        apiVersion: "authorization.k8s.io/v1",
        kind: "SelfSubjectAccessReview",
        spec: {
          resourceAttributes: {
            group,
            resource: "clusters",
            subresource: "proxy",
            verb,
            ...(name ? { name } : {}),
          },
        },
      },
    );
    return review.status?.allowed === true;
  };
  try {
    if (await allowed()) return { group, verb, allowed: "all" };
    const each = await Promise.all(clusters.map(async (c) => (await allowed(c)) && c));
    return { group, verb, allowed: "some", clusters: each.filter((c): c is string => c !== false) };
  } catch (error) {
    return { group, verb, allowed: "unknown", message: (error as Error).message };
  }
}
