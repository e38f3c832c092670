/**
 * The cgroups of a test environment with nodes: one tree per slot in every mounted hierarchy
 * (cgroup v1, hybrid or v2), holding the node daemons and, below the kubelets' cgroup roots,
 * every container. Whatever runs in the tree belongs to the environment, so killing the tree
 * leaves no process behind, even the containerd shims that outlive a killed test run.
 */
import { join } from "node:path";

/** A mounted cgroup hierarchy. */
export interface CgroupMount {
  path: string;
  version: 1 | 2;
}

/** The cgroup hierarchies (v1 controllers, named ones, and v2). */
export function cgroupMounts(
  mountinfo = Deno.readTextFileSync("/proc/self/mountinfo"),
): CgroupMount[] {
  const mounts: CgroupMount[] = [];
  for (const line of mountinfo.split("\n")) {
    // "<id> <parent> <dev> <root> <mount point> <options> [optional...] - <fstype> <source> <super options>"
    const [left, right] = line.split(" - ");
    if (!left || !right) continue;
    const fsType = right.split(" ")[0];
    if (fsType !== "cgroup" && fsType !== "cgroup2") continue;
    const mountPoint = unescapeMountPath(left.split(" ")[4] ?? "");
    if (mountPoint) mounts.push({ path: mountPoint, version: fsType === "cgroup2" ? 2 : 1 });
  }
  return mounts;
}

/** The cgroup (a path relative to each hierarchy's root) of a slot. */
export function slotCgroup(slot: number): string {
  return `mca-testenv-${slot}`;
}

/**
 * Creates `relative` in every hierarchy. On a machine with cgroup v2 alone the controllers
 * available below each level are switched on, so that the kubelet can use them under its
 * cgroup root (in hybrid mode the controllers are v1's, and v2 only groups processes).
 */
export function createCgroup(relative: string, mounts = cgroupMounts()): void {
  const v2Only = mounts.every((mount) => mount.version === 2);
  for (const mount of mounts) {
    const parts = relative.split("/").filter(Boolean);
    let path = mount.path;
    for (const part of parts) {
      if (v2Only) enableControllers(path);
      const parent = path;
      path = join(path, part);
      Deno.mkdirSync(path, { recursive: true });
      inheritCpuset(parent, path);
    }
  }
}

/** The `cgroup.procs` files that put a process into `relative` in every hierarchy. */
export function cgroupProcsFiles(relative: string, mounts = cgroupMounts()): string[] {
  return mounts.map((mount) => join(mount.path, relative, "cgroup.procs"));
}

/** Process ids in `relative` and below, in any hierarchy. */
export function cgroupProcesses(relative: string, mounts = cgroupMounts()): number[] {
  const pids = new Set<number>();
  const visit = (dir: string) => {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(dir)];
    } catch {
      return;
    }
    try {
      for (const pid of Deno.readTextFileSync(join(dir, "cgroup.procs")).split("\n")) {
        if (pid) pids.add(Number(pid));
      }
    } catch {
      // Removed meanwhile.
    }
    for (const entry of entries) if (entry.isDirectory) visit(join(dir, entry.name));
  };
  for (const mount of mounts) visit(join(mount.path, relative));
  return [...pids];
}

/**
 * SIGKILLs every process in `relative` and below until none is left (a process may fork while
 * we kill), then removes the cgroups bottom-up. Throws if processes remain after `timeoutMs`.
 * Synchronous: it runs on exit paths too.
 */
export function killCgroupTree(
  relative: string,
  options: { timeoutMs?: number; mounts?: CgroupMount[] } = {},
): void {
  const mounts = options.mounts ?? cgroupMounts();
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  while (true) {
    const pids = cgroupProcesses(relative, mounts);
    if (pids.length === 0) break;
    if (Date.now() > deadline) {
      throw new Error(
        `Processes ${pids.join(", ")} in cgroup "${relative}" did not die after SIGKILL`,
      );
    }
    for (const pid of pids) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch {
        // Gone already.
      }
    }
    sleepSync(50);
  }
  for (const mount of mounts) removeTree(join(mount.path, relative), deadline);
}

/** Blocks the thread for a moment (exit paths cannot await a timer). */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Removes an empty cgroup tree deepest first; a cgroup whose last task is exiting is retried. */
function removeTree(dir: string, deadline: number): void {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch {
    return;
  }
  for (const entry of entries) if (entry.isDirectory) removeTree(join(dir, entry.name), deadline);
  while (true) {
    try {
      Deno.removeSync(dir);
      return;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return;
      if (Date.now() > deadline) {
        throw new Error(`Cannot remove cgroup "${dir}": ${(error as Error).message}`);
      }
      sleepSync(50);
    }
  }
}

/**
 * A new v1 cpuset cgroup starts with no CPUs and memory nodes, and refuses tasks until it has
 * some ("echo: I/O error"): it gets its parent's, as the kubelet does for its own cgroups.
 */
function inheritCpuset(parent: string, child: string): void {
  for (const file of ["cpuset.cpus", "cpuset.mems"]) {
    let current: string;
    try {
      current = Deno.readTextFileSync(join(child, file)).trim();
    } catch {
      return; // not the cpuset hierarchy
    }
    if (current === "") {
      Deno.writeTextFileSync(join(child, file), Deno.readTextFileSync(join(parent, file)));
    }
  }
}

function enableControllers(dir: string): void {
  let available: string;
  try {
    available = Deno.readTextFileSync(join(dir, "cgroup.controllers")).trim();
  } catch {
    return; // cgroup v1: no such file
  }
  if (!available) return;
  const enabled = Deno.readTextFileSync(join(dir, "cgroup.subtree_control")).trim().split(" ");
  for (const controller of available.split(" ")) {
    if (enabled.includes(controller)) continue;
    try {
      Deno.writeTextFileSync(join(dir, "cgroup.subtree_control"), `+${controller}`);
    } catch {
      // Some controllers cannot be delegated here (threaded mode, say); the kubelet says if it
      // needed one.
    }
  }
}

/** Mount points in /proc/self/mountinfo escape space, tab, newline and backslash as octal. */
function unescapeMountPath(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, octal) => String.fromCharCode(parseInt(octal, 8)));
}
