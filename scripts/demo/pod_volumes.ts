/**
 * Pod volumes made as local folders, the way a kubelet fills them: configMap, secret, emptyDir,
 * and projected volumes with service-account tokens (requested with TokenRequest, bound to the
 * pod, renewed at 80% of their life as the kubelet does).
 */
import { KubeApiError, type KubeClient } from "../../src/kube/mod.ts";

/** The parts of a Pod that the demo's kubelet stand-in reads. */
export interface PodSpecLite {
  metadata: { name: string; namespace: string; uid: string };
  spec: {
    serviceAccountName?: string;
    volumes?: Volume[];
    initContainers?: Container[];
    containers: Container[];
  };
}

/** A container, as far as running it locally goes. */
export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  ports?: { name?: string; containerPort: number }[];
  startupProbe?: Probe;
  readinessProbe?: Probe;
  restartPolicy?: string;
  volumeMounts?: { name: string; mountPath: string; subPath?: string }[];
}

/** An HTTP probe. */
export interface Probe {
  httpGet?: { path?: string; port: number | string };
}

type KeyItems = { key: string; path: string }[] | undefined;
interface Volume {
  name: string;
  emptyDir?: unknown;
  configMap?: { name: string; items?: KeyItems; optional?: boolean };
  secret?: { secretName: string; items?: KeyItems; optional?: boolean };
  projected?: { sources: ProjectedSource[] };
}
interface ProjectedSource {
  serviceAccountToken?: { path: string; expirationSeconds?: number; audience?: string };
  configMap?: { name: string; items?: KeyItems; optional?: boolean };
  secret?: { name: string; items?: KeyItems; optional?: boolean };
  downwardAPI?: { items: { path: string; fieldRef?: { fieldPath: string } }[] };
}

/** Made volumes: name → folder, and the timers that renew their tokens. */
export interface PodVolumes {
  dirs: Map<string, string>;
  stop(): void;
}

/** Fills every volume of the pod under `dir`. */
export async function makePodVolumes(
  pod: PodSpecLite,
  client: KubeClient,
  dir: string,
): Promise<PodVolumes> {
  const dirs = new Map<string, string>();
  const timers: ReturnType<typeof setInterval>[] = [];
  const namespace = pod.metadata.namespace;
  for (const volume of pod.spec.volumes ?? []) {
    const target = `${dir}/volumes/${volume.name}`;
    await Deno.mkdir(target, { recursive: true });
    dirs.set(volume.name, target);
    if (volume.configMap) {
      await writeKeys(target, await objectData(client, namespace, "configmaps", volume.configMap));
    } else if (volume.secret) {
      const { secretName, ...rest } = volume.secret;
      await writeKeys(
        target,
        await objectData(client, namespace, "secrets", { name: secretName, ...rest }),
      );
    } else if (volume.projected) {
      for (const source of volume.projected.sources) {
        if (source.serviceAccountToken) {
          const token = source.serviceAccountToken;
          const renew = async () => {
            const value = await requestToken(client, pod, token);
            await writeFileAtomic(`${target}/${token.path}`, value);
          };
          await renew();
          const lifeMs = (token.expirationSeconds ?? 3600) * 1000;
          timers.push(setInterval(() => renew().catch(() => {}), lifeMs * 0.8));
        }
        if (source.configMap) {
          await writeKeys(
            target,
            await objectData(client, namespace, "configmaps", source.configMap),
          );
        }
        if (source.secret) {
          await writeKeys(target, await objectData(client, namespace, "secrets", source.secret));
        }
        for (const item of source.downwardAPI?.items ?? []) {
          await writeFileAtomic(`${target}/${item.path}`, podField(pod, item.fieldRef?.fieldPath));
        }
      }
    }
  }
  return { dirs, stop: () => timers.forEach(clearInterval) };
}

/** The value of a `fieldRef` (the fields the demo's pods use). */
export function podField(pod: PodSpecLite, fieldPath = ""): string {
  switch (fieldPath) {
    case "metadata.name":
      return pod.metadata.name;
    case "metadata.namespace":
      return pod.metadata.namespace;
    case "metadata.uid":
      return pod.metadata.uid;
    case "status.podIP":
    case "status.hostIP":
      return "127.0.0.1";
    default:
      throw new Error(`The demo's kubelet stand-in cannot fill fieldRef "${fieldPath}"`);
  }
}

// A ConfigMap's data, or a Secret's decoded, limited to `items` when given.
async function objectData(
  client: KubeClient,
  namespace: string,
  kind: "configmaps" | "secrets",
  source: { name: string; items?: KeyItems; optional?: boolean },
): Promise<Record<string, string>> {
  const object = await getOptional<{ data?: Record<string, string> }>(
    client,
    `/api/v1/namespaces/${namespace}/${kind}/${source.name}`,
    source.optional,
  );
  const data = Object.entries(object?.data ?? {}).map((
    [key, value],
  ) => [key, kind === "secrets" ? atob(value) : value]);
  return pickItems(Object.fromEntries(data), source.items);
}

async function getOptional<T>(
  client: KubeClient,
  path: string,
  optional = false,
): Promise<T | undefined> {
  try {
    return await client.get<T>(path);
  } catch (error) {
    if (optional && error instanceof KubeApiError && error.code === 404) return undefined;
    throw error;
  }
}

function pickItems(data: Record<string, string>, items: KeyItems): Record<string, string> {
  if (!items) return data;
  return Object.fromEntries(
    items.filter((item) => item.key in data).map((item) => [item.path, data[item.key]!]),
  );
}

async function requestToken(
  client: KubeClient,
  pod: PodSpecLite,
  token: { expirationSeconds?: number; audience?: string },
): Promise<string> {
  const serviceAccount = pod.spec.serviceAccountName ?? "default";
  const review = await client.create<{ status: { token: string } }>(
    `/api/v1/namespaces/${pod.metadata.namespace}/serviceaccounts/${serviceAccount}/token`,
    {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenRequest",
      spec: {
        ...(token.audience ? { audiences: [token.audience] } : {}),
        expirationSeconds: token.expirationSeconds ?? 3600,
        boundObjectRef: {
          apiVersion: "v1",
          kind: "Pod",
          name: pod.metadata.name,
          uid: pod.metadata.uid,
        },
      },
    },
  );
  return review.status.token;
}

async function writeKeys(dir: string, data: Record<string, string>): Promise<void> {
  for (const [path, value] of Object.entries(data)) await writeFileAtomic(`${dir}/${path}`, value);
}

// Readers see the old file or the new one, never half of one (the kubelet swaps a symlink).
async function writeFileAtomic(path: string, text: string): Promise<void> {
  await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  await Deno.writeTextFile(`${path}.tmp`, text, { mode: 0o600 });
  await Deno.rename(`${path}.tmp`, path);
}
