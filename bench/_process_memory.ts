/** Resident memory of processes, read from /proc (Linux). */

/** VmRSS of one process in MiB, NaN when it is gone. */
export function rssMiB(pid: number): number {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN) / 1024;
  } catch {
    return NaN;
  }
}

/** Direct children of a process. */
export function childPids(pid: number): number[] {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/task/${pid}/children`).trim().split(/\s+/).filter(
      Boolean,
    ).map(Number);
  } catch {
    return [];
  }
}

/** The process a guard shell runs (its child whose command is not sh), for managed processes. */
export function guardedPid(guardPid: number): number | undefined {
  return childPids(guardPid).find((pid) => {
    const comm = Deno.readTextFileSync(`/proc/${pid}/comm`).trim();
    return comm !== "sh";
  });
}
