/**
 * Hub replicas behind one Service: each publishes a Lease `mca-hub-<replica>` in the hub's
 * namespace naming its peer URL and the clusters whose agents it holds, renewed every 10 s.
 * A replica without a session for a cluster forwards the request, in one hop, to one that has.
 */
import type { KubeClient } from "../kube/mod.ts";
import type { Logger } from "../log/mod.ts";

/** Label on replica Leases. */
export const REPLICA_LABEL = "mca.k8s.io/hub-replica";
const PEER_URL = "mca.k8s.io/peer-url";
const CLUSTERS = "mca.k8s.io/clusters";
const LEASE_SECONDS = 30;
/** How long a replica acts on its view of the others' Leases before reading them again. */
export const PEER_VIEW_MS = 2_000;

type Lease = {
  metadata: { name: string; annotations?: Record<string, string> };
  spec?: { holderIdentity?: string; renewTime?: string; leaseDurationSeconds?: number };
};

/** Publishing this replica, and finding others. */
export interface ReplicaDirectory {
  /** Says now that this replica's clusters changed. */
  update(): void;
  /** The peer URL of another live replica holding the cluster, if any. */
  findPeer(cluster: string): Promise<string | undefined>;
  /** The other live replicas now, and the clusters they hold (read fresh, not from the cache). */
  others(): Promise<{ replicas: number; clusters: Set<string> }>;
  /** True while this replica's Lease is current (other replicas can find it). */
  isPublished(): boolean;
  stop(): Promise<void>;
}

/** What the directory needs to publish this replica. */
export interface ReplicaDirectoryOptions {
  namespace: string;
  replicaId: string;
  peerUrl: string;
  clusters: () => string[];
  logger: Logger;
}

/** Starts publishing; `clusters` is read at each renewal. */
export function startReplicaDirectory(
  client: KubeClient,
  options: ReplicaDirectoryOptions,
): ReplicaDirectory {
  const path = `/apis/coordination.k8s.io/v1/namespaces/${options.namespace}/leases`;
  const name = `mca-hub-${options.replicaId}`;
  let publishedAt = 0;
  const publish = () =>
    publishLease(client, { path, name }, options).then((published) => {
      if (published) publishedAt = Date.now();
    });
  let publishing = publish();
  const timer = setInterval(() => publishing = publishing.then(publish), 10_000);
  let cache: { at: number; leases: Lease[] } | undefined;
  return {
    update() {
      publishing = publishing.then(publish);
    },
    isPublished: () => Date.now() - publishedAt < LEASE_SECONDS * 1000,
    async others() {
      const list = await client.list<Lease>(path, { labelSelector: REPLICA_LABEL });
      const live = liveOthers(list.items, options.replicaId, Date.now());
      const clusters = live.flatMap((lease) =>
        (lease.metadata.annotations?.[CLUSTERS] ?? "").split(",").filter(Boolean)
      );
      return { replicas: live.length, clusters: new Set(clusters) };
    },
    async findPeer(cluster) {
      if (!cache || Date.now() - cache.at > PEER_VIEW_MS) {
        const list = await client.list<Lease>(path, { labelSelector: REPLICA_LABEL });
        cache = { at: Date.now(), leases: list.items };
      }
      const peerUrl = holderOf(cache.leases, cluster, options.replicaId, Date.now());
      if (!peerUrl) cache = undefined; // a newer view may know more next time
      return peerUrl;
    },
    async stop() {
      clearInterval(timer);
      await publishing;
      await client.delete(`${path}/${name}`).catch(() => {});
    },
  };
}

/** Applies this replica's Lease; false (and a warning) when the host refused. */
async function publishLease(
  client: KubeClient,
  { path, name }: { path: string; name: string },
  options: ReplicaDirectoryOptions,
): Promise<boolean> {
  try {
    await client.patch(
      `${path}/${name}`,
      {
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: {
          name,
          namespace: options.namespace,
          labels: { [REPLICA_LABEL]: "true" },
          annotations: { [PEER_URL]: options.peerUrl, [CLUSTERS]: options.clusters().join(",") },
        },
        spec: {
          holderIdentity: options.replicaId,
          leaseDurationSeconds: LEASE_SECONDS,
          renewTime: new Date().toISOString().replace(/\.(\d{3})Z$/, ".$1000Z"),
        },
      },
      "apply",
      { fieldManager: "mca-hub", force: true },
    );
    return true;
  } catch (error) {
    options.logger.warn("cannot publish this hub replica", { error: (error as Error).message });
    return false;
  }
}

/** The peer URL of another replica whose live Lease names the cluster. */
function holderOf(
  leases: Lease[],
  cluster: string,
  replicaId: string,
  now: number,
): string | undefined {
  const holder = liveOthers(leases, replicaId, now).find((lease) =>
    (lease.metadata.annotations?.[CLUSTERS] ?? "").split(",").includes(cluster)
  );
  return holder?.metadata.annotations?.[PEER_URL];
}

/** The Leases of the other replicas that are still current. */
function liveOthers(leases: Lease[], replicaId: string, now: number): Lease[] {
  return leases.filter((lease) => {
    const renewed = Date.parse(lease.spec?.renewTime ?? "");
    const ttl = (lease.spec?.leaseDurationSeconds ?? LEASE_SECONDS) * 1000;
    return lease.spec?.holderIdentity !== replicaId && renewed + ttl > now;
  });
}
