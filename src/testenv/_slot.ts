/**
 * Slots: which environment with nodes owns which set of names, addresses and folders on this
 * machine. A slot is claimed by writing an owner file (pid and process start time) under a lock;
 * a slot whose owner is gone (a test run killed with SIGKILL, say) is swept before it is reused.
 */
import { NODE_SLOTS } from "./node_network.ts";

/** Where slot owner files and the slots' runtime folders live (tmpfs: gone after a reboot). */
export const SLOTS_RUN_DIR = "/run/mca-testenv";
/** Where the slots' persistent folders live (containerd and kubelet roots). */
export const SLOTS_STATE_DIR = "/var/lib/mca-testenv";

/** Who owns a slot. */
export interface SlotOwner {
  pid: number;
  /** Start time of the process in clock ticks since boot (/proc/<pid>/stat field 22). */
  startTime: string;
  /** The environment's working folder (logs), for the humans reading the file. */
  dir: string;
}

/** The runtime folder (sockets, state) and persistent folder (roots) of a slot. */
export function slotDirs(slot: number): { run: string; state: string } {
  return { run: `${SLOTS_RUN_DIR}/${slot}`, state: `${SLOTS_STATE_DIR}/${slot}` };
}

/**
 * Claims a free slot for this process. Slots of dead owners are swept (by `sweep`) first; if
 * every slot is held by a live process, throws naming them.
 */
export function claimSlot(dir: string, sweep: (slot: number) => void): number {
  return withSlotLock(() => {
    const holders: string[] = [];
    for (let slot = 0; slot < NODE_SLOTS; slot++) {
      const owner = readOwner(slot);
      if (owner && isAlive(owner)) {
        holders.push(`${slot}: pid ${owner.pid} (${owner.dir})`);
        continue;
      }
      // Whatever a dead owner (or a crash before its owner file was written) left goes first.
      sweep(slot);
      const self: SlotOwner = { pid: Deno.pid, startTime: processStartTime(Deno.pid) ?? "", dir };
      Deno.writeTextFileSync(ownerFile(slot), JSON.stringify(self) + "\n");
      return slot;
    }
    throw new Error(
      `All ${NODE_SLOTS} test environment slots with nodes are in use on this machine (${
        holders.join("; ")
      }): stop some of those processes first`,
    );
  });
}

/** Gives a slot back once it is swept; only its owner does. */
export function releaseSlot(slot: number): void {
  withSlotLock(() => {
    if (readOwner(slot)?.pid === Deno.pid) Deno.removeSync(ownerFile(slot));
  });
}

/** Sweeps every slot whose owner process is gone; returns their numbers. */
export function sweepDeadSlots(sweep: (slot: number) => void): number[] {
  return withSlotLock(() => {
    const swept: number[] = [];
    for (let slot = 0; slot < NODE_SLOTS; slot++) {
      const owner = readOwner(slot);
      if (!owner || isAlive(owner)) continue;
      sweep(slot);
      Deno.removeSync(ownerFile(slot));
      swept.push(slot);
    }
    return swept;
  });
}

/** The owner of a slot, if its file exists. */
export function readOwner(slot: number): SlotOwner | undefined {
  try {
    return JSON.parse(Deno.readTextFileSync(ownerFile(slot))) as SlotOwner;
  } catch {
    return undefined;
  }
}

/** True while the owner's process runs (the same pid with the same start time). */
export function isAlive(owner: SlotOwner): boolean {
  return processStartTime(owner.pid) === owner.startTime;
}

function ownerFile(slot: number): string {
  return `${SLOTS_RUN_DIR}/slot-${slot}.json`;
}

function withSlotLock<T>(work: () => T): T {
  Deno.mkdirSync(SLOTS_RUN_DIR, { recursive: true });
  using lock = Deno.openSync(`${SLOTS_RUN_DIR}/lock`, { create: true, write: true });
  lock.lockSync(true);
  return work();
}

/** Field 22 of /proc/<pid>/stat, or undefined when there is no such process. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}
