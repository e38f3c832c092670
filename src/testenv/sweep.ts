/**
 * Removing everything an environment with nodes put on the machine, found by its slot alone:
 * processes (by cgroup, network namespace and paths), mounts, iptables rules, interfaces,
 * network namespaces, cgroups and folders. The same sweep ends a normal run and cleans up after
 * a run that was killed (its slot's owner is gone), so both paths are one tested code path.
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { cgroupProcesses, killCgroupTree, sleepSync, slotCgroup } from "./_cgroups.ts";
import { runHostSync } from "./_host_command.ts";
import {
  listSlotRules,
  removeSlotFirewall,
  removeSlotLinks,
  slotInterfaces,
  slotNamespaces,
} from "./_host_network.ts";
import { slotNetwork } from "./node_network.ts";
import { readOwner, slotDirs, SLOTS_STATE_DIR, sweepDeadSlots } from "./_slot.ts";

/** containerd 1.6 keeps every shim's socket here, whatever its state folder. */
const SHIM_SOCKET_DIR = "/run/containerd/s";
/** libcni's cache of results (named after the network), which containerd does not move. */
const CNI_RESULTS_DIR = "/var/lib/cni/results";

/** Sweeps the slots of environments whose process is gone; returns the slots swept. */
export function sweepStaleTestEnvs(): number[] {
  return sweepDeadSlots(sweepSlot);
}

/** Removes everything of one slot from the machine; idempotent, synchronous. */
export function sweepSlot(slot: number): void {
  const shimSockets = killSlotProcesses(slot);
  const sandboxes = sandboxIds(slot);
  unmountUnder(slotDirs(slot));
  removeSlotFirewall(slot);
  removeSlotLinks(slot);
  for (const socket of shimSockets) removeIfPresent(socket);
  removeCniResults(slot, sandboxes);
  for (const dir of Object.values(slotDirs(slot))) removeIfPresent(dir, true);
  const emptied = [
    SHIM_SOCKET_DIR,
    "/run/containerd/fifo",
    "/run/containerd",
    CNI_RESULTS_DIR,
    "/var/lib/cni",
    SLOTS_STATE_DIR,
  ];
  for (const dir of emptied) {
    removeIfEmpty(dir);
  }
}

/** What of a slot is still on the machine, one line per thing (empty when it is clean). */
export function slotLeftovers(slot: number): string[] {
  const found: string[] = [];
  for (const pid of slotProcesses(slot)) found.push(`process ${pid}: ${commandLine(pid)}`);
  for (const mount of mountsUnder(slotDirs(slot))) found.push(`mount ${mount}`);
  for (const rule of listSlotRules(slot)) found.push(`iptables ${rule}`);
  for (const name of slotInterfaces(slot)) found.push(`interface ${name}`);
  for (const name of slotNamespaces(slot)) found.push(`network namespace ${name}`);
  for (const dir of Object.values(slotDirs(slot))) {
    if (exists(dir)) found.push(`folder ${dir}`);
  }
  for (const mount of ["/sys/fs/cgroup/pids", "/sys/fs/cgroup/memory", "/sys/fs/cgroup"]) {
    const dir = join(mount, slotCgroup(slot));
    if (exists(dir)) found.push(`cgroup ${dir}`);
  }
  if (readOwner(slot)) found.push(`slot owner file of slot ${slot}`);
  return found;
}

/**
 * Kills the slot's processes: everything in its cgroup tree (node daemons, shims, containers),
 * in its nodes' network namespaces, or naming its folders. Returns the shims' socket files.
 */
function killSlotProcesses(slot: number): string[] {
  const sockets = new Set<string>();
  const deadline = Date.now() + 15_000;
  while (true) {
    const pids = slotProcesses(slot);
    for (const pid of pids) {
      const socket = shimSocket(commandLine(pid).split("\0"));
      if (socket) sockets.add(socket);
    }
    if (pids.length === 0) break;
    if (Date.now() > deadline) {
      throw new Error(`Processes of test slot ${slot} survived SIGKILL: ${pids.join(", ")}`);
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
  killCgroupTree(slotCgroup(slot));
  return [...sockets];
}

/** Processes that belong to the slot by cgroup, node network namespace or folder. */
function slotProcesses(slot: number): number[] {
  const pids = new Set(cgroupProcesses(slotCgroup(slot)));
  const namespaces = new Set<string>();
  for (const name of slotNamespaces(slot)) {
    const ino = Deno.statSync(`/run/netns/${name}`).ino;
    if (ino !== null) namespaces.add(`net:[${ino}]`);
  }
  const dirs = Object.values(slotDirs(slot)).map((dir) => `${dir}/`);
  const netnsPaths = `/run/netns/${slotNetwork(slot).netnsPrefix}`;
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const pid = Number(entry.name);
    if (pid === Deno.pid || pids.has(pid)) continue;
    try {
      if (namespaces.has(Deno.readLinkSync(`/proc/${pid}/ns/net`))) {
        pids.add(pid);
        continue;
      }
    } catch {
      // Gone, or a kernel thread.
    }
    const command = commandLine(pid);
    if (dirs.some((dir) => command.includes(dir)) || command.includes(netnsPaths)) pids.add(pid);
  }
  return [...pids];
}

/**
 * The socket a containerd 1.6 shim serves: /run/containerd/s/<sha256 of "<address>/<ns>/<id>">
 * (runtime/v2/shim SocketAddress). A killed shim leaves it behind.
 */
export function shimSocket(argv: string[]): string | undefined {
  if (!argv[0]?.endsWith("containerd-shim-runc-v2")) return undefined;
  const flag = (name: string) => {
    const at = argv.indexOf(`-${name}`);
    return at >= 0 ? argv[at + 1] : undefined;
  };
  const address = flag("address");
  const namespace = flag("namespace");
  const id = flag("id");
  if (!address || !namespace || !id) return undefined;
  const digest = createHash("sha256").update(join(address, namespace, id)).digest("hex");
  return `${SHIM_SOCKET_DIR}/${digest}`;
}

function unmountUnder(dirs: { run: string; state: string }): void {
  // Deepest first; a busy mount is detached lazily (the processes using it are dead by now).
  for (let round = 0; round < 5; round++) {
    const mounts = mountsUnder(dirs);
    if (mounts.length === 0) return;
    for (const mount of mounts.sort((a, b) => b.length - a.length)) {
      if (runHostSync("umount", [mount]).code !== 0) runHostSync("umount", ["-l", mount]);
    }
  }
  const left = mountsUnder(dirs);
  if (left.length > 0) throw new Error(`Cannot unmount ${left.map((m) => `"${m}"`).join(", ")}`);
}

function mountsUnder(dirs: { run: string; state: string }): string[] {
  const prefixes = Object.values(dirs);
  const mounts: string[] = [];
  for (const line of Deno.readTextFileSync("/proc/self/mountinfo").split("\n")) {
    const path = line.split(" ")[4]?.replace(
      /\\([0-7]{3})/g,
      (_, octal) => String.fromCharCode(parseInt(octal, 8)),
    );
    if (path && prefixes.some((prefix) => path === prefix || path.startsWith(`${prefix}/`))) {
      mounts.push(path);
    }
  }
  return mounts;
}

/**
 * The ids of the pod sandboxes containerd made for the slot's nodes (the CRI plugin keeps a
 * folder per sandbox under its root and state).
 */
function sandboxIds(slot: number): Set<string> {
  const ids = new Set<string>();
  for (const base of Object.values(slotDirs(slot))) {
    let nodes: Deno.DirEntry[];
    try {
      nodes = [...Deno.readDirSync(base)];
    } catch {
      continue;
    }
    for (const node of nodes) {
      const sandboxes = join(
        base,
        node.name,
        "containerd",
        "io.containerd.grpc.v1.cri",
        "sandboxes",
      );
      try {
        for (const entry of Deno.readDirSync(sandboxes)) ids.add(entry.name);
      } catch {
        // No sandboxes.
      }
    }
  }
  return ids;
}

/**
 * libcni caches each attachment's result as "<network>-<sandbox id>-<interface>" (the slot's
 * bridge network, and containerd's own "cni-loopback"); a pod whose sandbox was never torn down
 * leaves them.
 */
function removeCniResults(slot: number, sandboxes: Set<string>): void {
  const prefix = slotNetwork(slot).netnsPrefix;
  try {
    for (const entry of Deno.readDirSync(CNI_RESULTS_DIR)) {
      const ours = entry.name.startsWith(prefix) ||
        [...sandboxes].some((id) => entry.name.includes(`-${id}-`));
      if (ours) Deno.removeSync(join(CNI_RESULTS_DIR, entry.name));
    }
  } catch {
    // No results folder.
  }
}

function commandLine(pid: number): string {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/cmdline`).replace(/\0$/, "");
  } catch {
    return "";
  }
}

function removeIfPresent(path: string, recursive = false): void {
  try {
    Deno.removeSync(path, { recursive });
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

function removeIfEmpty(dir: string): void {
  try {
    Deno.removeSync(dir);
  } catch {
    // Not empty (someone else's), or not there.
  }
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}
