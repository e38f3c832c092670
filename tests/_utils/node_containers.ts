/**
 * Containers of the test nodes seen from the machine, as an operator on the node would see
 * them: a container's process (containerd's `ctr`), signals sent to it, its files, its mounts
 * and its memory cgroup. The tests run as root in the nodes' process namespace.
 */
import { runCommand } from "./run_command.ts";
import type { PodObject } from "./pods.ts";
import type { TestCluster } from "../../src/testenv/mod.ts";

/** The containerd id of a pod's container (regular or init), from the pod's status. */
export function containerId(pod: PodObject, name: string): string {
  const statuses = [
    ...(pod.status.initContainerStatuses ?? []),
    ...(pod.status.containerStatuses ?? []),
  ];
  const id = statuses.find((status) => status.name === name)?.containerID;
  if (!id) {
    throw new Error(`Pod "${pod.metadata.name}" has no running container "${name}" in its status`);
  }
  return id.replace(/^containerd:\/\//, "");
}

/** Runs containerd's `ctr` against a cluster's node, in the kubelet's namespace. */
export async function ctr(cluster: TestCluster, args: string[]): Promise<string> {
  const node = cluster.node;
  if (!node) throw new Error(`Cluster "${cluster.name}" has no node`);
  const result = await runCommand("ctr", [
    `--address=${node.containerdSocket}`,
    "--namespace=k8s.io",
    ...args,
  ]);
  if (result.code !== 0) throw new Error(`ctr ${args.join(" ")} failed: ${result.stderr}`);
  return result.stdout;
}

/** The machine's process id of a container's main process (`ctr tasks ls`). */
export async function containerPid(cluster: TestCluster, id: string): Promise<number> {
  const line = (await ctr(cluster, ["tasks", "ls"])).split("\n").find((row) =>
    row.startsWith(`${id} `)
  );
  const [, pid, status] = line?.trim().split(/\s+/) ?? [];
  if (!pid || status !== "RUNNING") throw new Error(`Container "${id}" is not running: ${line}`);
  return Number(pid);
}

/** Sends a signal to a container's main process, as the runtime does (`ctr tasks kill`). */
export async function signalContainer(
  cluster: TestCluster,
  id: string,
  signal: "SIGKILL" | "SIGTERM",
): Promise<void> {
  await ctr(cluster, ["tasks", "kill", `--signal=${signal}`, id]);
}

/** A file as the container's process sees it (through its root in /proc). */
export async function readContainerFile(pid: number, path: string): Promise<string> {
  return await Deno.readTextFile(`/proc/${pid}/root${path}`);
}

/** The mount options of `/` in the container's mount namespace (e.g. "ro,relatime"). */
export async function rootMountOptions(pid: number): Promise<string[]> {
  for (const line of (await Deno.readTextFile(`/proc/${pid}/mountinfo`)).split("\n")) {
    // "<id> <parent> <dev> <root> <mount point> <options> ..." (proc(5))
    const fields = line.split(" ");
    if (fields[4] === "/") return (fields[5] ?? "").split(",");
  }
  throw new Error(`No root mount in /proc/${pid}/mountinfo`);
}

/** A container's memory as its cgroup accounts it, in MiB. */
export interface ContainerMemory {
  /** What the kubelet and `kubectl top` report: usage less inactive file pages. */
  workingSetMiB: number;
  /** Anonymous memory (the process's heap and stacks). */
  rssMiB: number;
}

/**
 * The memory of the cgroup a process runs in (the container's): cgroup v1's `memory`
 * controller or cgroup v2's unified hierarchy.
 */
export async function cgroupMemory(pid: number): Promise<ContainerMemory> {
  const cgroups = (await Deno.readTextFile(`/proc/${pid}/cgroup`)).split("\n");
  const v1 = cgroups.find((line) => /^\d+:([^:]*,)?memory(,[^:]*)?:/.test(line));
  const mib = (bytes: number) => bytes / 1024 / 1024;
  if (v1) {
    const dir = `/sys/fs/cgroup/memory${v1.slice(v1.lastIndexOf(":") + 1)}`;
    const stat = memoryStat(await Deno.readTextFile(`${dir}/memory.stat`));
    const usage = Number(await Deno.readTextFile(`${dir}/memory.usage_in_bytes`));
    return {
      workingSetMiB: mib(usage - (stat.total_inactive_file ?? 0)),
      rssMiB: mib(stat.total_rss ?? 0),
    };
  }
  const v2 = cgroups.find((line) => line.startsWith("0::"));
  if (!v2) throw new Error(`No memory cgroup for process ${pid}`);
  const dir = `/sys/fs/cgroup${v2.slice(3)}`;
  const stat = memoryStat(await Deno.readTextFile(`${dir}/memory.stat`));
  const usage = Number(await Deno.readTextFile(`${dir}/memory.current`));
  return {
    workingSetMiB: mib(usage - (stat.inactive_file ?? 0)),
    rssMiB: mib(stat.anon ?? 0),
  };
}

function memoryStat(text: string): Record<string, number> {
  return Object.fromEntries(
    text.trim().split("\n").map((line) => line.split(" ")).map(([key, value]) => [
      key,
      Number(value),
    ]),
  );
}
