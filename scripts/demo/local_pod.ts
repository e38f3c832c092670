/**
 * The demo's stand-in for a kubelet: no kubelet runs on the local control planes, so a Pod the
 * API server admitted (webhook and all) is run here as local processes. Each container gets a
 * root folder where its volumes appear at their mount paths; paths in its arguments are
 * rewritten to that root; ports it would open on all interfaces get free local ports (pods
 * share this machine's network here), and sidecars start first, each once its startup probe
 * passes, as native sidecars do.
 */
import {
  freePort,
  type ManagedProcess,
  startManagedProcess,
  waitFor,
} from "../../src/testenv/mod.ts";
import { KubeApiError, type KubeClient } from "../../src/kube/mod.ts";
import { type Container, makePodVolumes, podField, type PodSpecLite } from "./pod_volumes.ts";

/** How to run a pod here. */
export interface LocalPodOptions {
  /** The pod's cluster: its API server (URL for KUBERNETES_SERVICE_*, CA) and an admin client. */
  cluster: { url: string; caPem: string; client: KubeClient };
  /** Folder for the pod's volumes, roots and logs. */
  dir: string;
  /** The command an image runs (its entrypoint); undefined: the demo cannot run that image. */
  entrypointOf(image: string): string[] | undefined;
  /** Arguments to add where the local machine differs from a pod (given the container's root). */
  localArgs?(container: Container, root: string): string[];
}

/** A pod running as local processes. */
export interface LocalPod {
  name: string;
  /** The container's root folder: its mounts are under it. */
  root(container: string): string;
  process(container: string): ManagedProcess;
  stop(): Promise<void>;
}

/** Runs the pod's sidecars, then its containers; resolves once all are started. */
export async function runPodLocally(pod: PodSpecLite, options: LocalPodOptions): Promise<LocalPod> {
  const podDir = `${options.dir}/${pod.metadata.namespace}_${pod.metadata.name}`;
  await publishRootCa(options.cluster, pod.metadata.namespace);
  const volumes = await makePodVolumes(pod, options.cluster.client, podDir);
  const processes = new Map<string, ManagedProcess>();
  const stop = async () => {
    volumes.stop();
    await Promise.all([...processes.values()].reverse().map((p) => p.stop()));
  };
  const start = async (container: Container) => {
    const root = `${podDir}/${container.name}/root`;
    await mountVolumes(container, root, volumes.dirs);
    const ports = new Map<number, number>();
    const args = [
      ...(container.args ?? []).map((arg) => localPorts(rewritePaths(arg, container, root), ports)),
      ...(options.localArgs?.(container, root) ?? []),
    ];
    const entrypoint = options.entrypointOf(container.image);
    if (!entrypoint || container.command) {
      throw new Error(
        `The demo cannot run image "${container.image}" (container ${container.name})`,
      );
    }
    const apiServer = new URL(options.cluster.url);
    const env: Record<string, string> = {
      // What the kubelet gives every container: where the API server is.
      KUBERNETES_SERVICE_HOST: apiServer.hostname,
      KUBERNETES_SERVICE_PORT: apiServer.port,
      LOCAL_POD_ROOT: root,
    };
    for (const variable of container.env ?? []) {
      env[variable.name] = variable.valueFrom?.fieldRef
        ? podField(pod, variable.valueFrom.fieldRef.fieldPath)
        : variable.value ?? "";
    }
    const process = await startManagedProcess(
      `${pod.metadata.name}/${container.name}`,
      entrypoint[0]!,
      [...entrypoint.slice(1), ...args],
      { logPath: `${podDir}/${container.name}.log`, env },
    );
    processes.set(container.name, process);
    const probe = container.startupProbe?.httpGet ?? container.readinessProbe?.httpGet;
    if (container.restartPolicy === "Always" && probe) {
      const declared = typeof probe.port === "number"
        ? probe.port
        : container.ports?.find((port) => port.name === probe.port)?.containerPort ?? 0;
      const port = ports.get(declared) ?? declared;
      await waitFor(async () => {
        const response = await fetch(`http://127.0.0.1:${port}${probe.path ?? "/"}`);
        await response.body?.cancel();
        return response.ok;
      }, { timeoutMs: 60_000, description: `container ${container.name} to be ready` })
        .catch(async (error) => {
          throw new Error(`${error.message}\n${await process.tail(20)}`);
        });
    }
  };
  try {
    const sidecars = (pod.spec.initContainers ?? []).filter((c) => c.restartPolicy === "Always");
    if (sidecars.length !== (pod.spec.initContainers ?? []).length) {
      throw new Error(
        "The demo runs native sidecars only, not init containers that run to completion",
      );
    }
    for (const container of sidecars) await start(container);
    for (const container of pod.spec.containers) await start(container);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    name: `${pod.metadata.namespace}/${pod.metadata.name}`,
    root: (container) => `${podDir}/${container}/root`,
    process(container) {
      const process = processes.get(container);
      if (!process) throw new Error(`No container "${container}" in ${pod.metadata.name}`);
      return process;
    },
    stop,
  };
}

// kube-controller-manager publishes the cluster's CA in every namespace for projected volumes
// to read; no controller manager runs here, so the stand-in does it.
async function publishRootCa(cluster: LocalPodOptions["cluster"], namespace: string) {
  await cluster.client.create(`/api/v1/namespaces/${namespace}/configmaps`, {
    metadata: { name: "kube-root-ca.crt" },
    data: { "ca.crt": cluster.caPem },
  }).catch((error) => {
    if (!(error instanceof KubeApiError && error.code === 409)) throw error;
  });
}

// Each mount is a symbolic link at its mount path under the container's root.
async function mountVolumes(container: Container, root: string, dirs: Map<string, string>) {
  for (const mount of container.volumeMounts ?? []) {
    const volume = dirs.get(mount.name);
    if (!volume) {
      throw new Error(`Container ${container.name} mounts unknown volume "${mount.name}"`);
    }
    const at = `${root}${mount.mountPath}`;
    await Deno.mkdir(at.slice(0, at.lastIndexOf("/")), { recursive: true });
    await Deno.symlink(mount.subPath ? `${volume}/${mount.subPath}` : volume, at);
  }
}

/** Points paths under a mount (in `--flag=/path` or `/path` form) into the container's root. */
export function rewritePaths(arg: string, container: Container, root: string): string {
  const mounts = [...(container.volumeMounts ?? [])]
    .sort((a, b) => b.mountPath.length - a.mountPath.length);
  for (const { mountPath } of mounts) {
    const escaped = mountPath.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
    const pattern = new RegExp(`(^|=)${escaped}(?=/|$)`);
    if (pattern.test(arg)) return arg.replace(pattern, `$1${root}${mountPath}`);
  }
  return arg;
}

/**
 * A listener on every interface (`--x=0.0.0.0:PORT`) is the pod's own port: here all pods share
 * one machine, so it gets a free loopback port (recorded in `ports` for the probes). Loopback
 * listeners are left alone: containers of one pod talk over them.
 */
export function localPorts(arg: string, ports: Map<number, number>, pick = freePort): string {
  const match = /^(--[\w-]+=)(0\.0\.0\.0|\[::\]|):(\d+)$/.exec(arg);
  if (!match) return arg;
  const declared = Number(match[3]);
  const local = ports.get(declared) ?? pick();
  ports.set(declared, local);
  return `${match[1]}127.0.0.1:${local}`;
}
