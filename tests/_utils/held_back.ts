/**
 * Whether processes relaying a large answer hold their upstream back when the client stops
 * reading: the kernel's receive queue of a connection to the upstream fills (the relay stopped
 * reading it) and stays, while the relays' resident memory stays near where it was. Linux (/proc).
 */
import { waitFor } from "../../src/common/mod.ts";

const MiB = 1024 * 1024;

/** The process a managed process's guard shell runs (its child), or the pid itself. */
function guardedChild(pid: number): number {
  try {
    const children = Deno.readTextFileSync(`/proc/${pid}/task/${pid}/children`).trim();
    return Number(children.split(/\s+/)[0]) || pid;
  } catch {
    return pid;
  }
}

/** Resident memory of a process in MiB. */
function residentMiB(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN) / 1024;
}

/** The largest receive queue (bytes) among TCP connections whose remote port is `port`. */
function largestReceiveQueue(port: number): number {
  let largest = 0;
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = Deno.readTextFileSync(table);
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      const remote = fields[2]?.split(":")[1];
      const queues = fields[4]?.split(":");
      if (remote === undefined || queues === undefined) continue;
      if (parseInt(remote, 16) !== port) continue;
      largest = Math.max(largest, parseInt(queues[1]!, 16));
    }
  }
  return largest;
}

/** A relay to watch: a name for messages and the pid of its (guarded) process. */
export interface Relay {
  name: string;
  pid: number;
}

/**
 * Waits until a connection to `upstreamPort` keeps the same bytes waiting in its receive queue
 * (someone stopped reading the upstream); fails as soon as a relay grew by more than
 * `boundMiB`. Returns each relay's growth in MiB.
 */
export async function waitUntilHeldBack(
  relays: Relay[],
  upstreamPort: number,
  boundMiB: number,
): Promise<Record<string, number>> {
  const watched = relays.map((relay) => {
    const pid = guardedChild(relay.pid);
    return { name: relay.name, pid, before: residentMiB(pid) };
  });
  const growth = () =>
    Object.fromEntries(watched.map((r) => [r.name, residentMiB(r.pid) - r.before]));
  let grown: string | undefined;
  // Held back: bytes wait, the same amount for ten polls in a row, half a second (a queue
  // that fills for a moment while the relay is busy changes between polls; how much the
  // kernel takes depends on how far it had grown the connection's buffer).
  const seen: number[] = [];
  await waitFor(() => {
    for (const [name, value] of Object.entries(growth())) {
      if (value > boundMiB) grown = `${name} grew by ${value.toFixed(0)} MiB`;
    }
    seen.push(largestReceiveQueue(upstreamPort));
    const last = seen.slice(-10);
    return grown !== undefined ||
      (last.length === 10 && last[0]! > 0 && last.every((queue) => queue === last[0]));
  }, {
    description: "the upstream to be held back",
    timeoutMs: 60_000,
    intervalMs: 50,
  }).catch((error) => {
    const recent = seen.slice(-8).map((queue) => (queue / MiB).toFixed(2)).join(", ");
    throw new Error(
      `${error.message} (receive queues seen last, MiB: ${recent}; growth MiB: ${
        JSON.stringify(growth())
      })`,
    );
  });
  if (grown) throw new Error(`A stalled reader was not held back: ${grown}`);
  return growth();
}
