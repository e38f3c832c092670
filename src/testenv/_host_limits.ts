/**
 * Machine limits that nodes side by side outgrow. Every kubelet, containerd and kube-proxy
 * holds inotify instances, and the kernel's default of 128 per user is shared by every process
 * of root: with a few environments with nodes on one machine, kube-proxy failed to start with
 * `failed complete: too many open files`. kind's documentation raises the same limits.
 */

/** The inotify instances per user the test environment needs at least. */
export const MIN_INOTIFY_INSTANCES = 1024;

/** The value to write to `max_user_instances`, or undefined to leave it (pure). */
export function inotifyInstancesToSet(current: number): number | undefined {
  return current < MIN_INOTIFY_INSTANCES ? MIN_INOTIFY_INSTANCES : undefined;
}

/** Raises fs.inotify.max_user_instances (root) when it is below what nodes need. */
export async function raiseInotifyLimit(
  path = "/proc/sys/fs/inotify/max_user_instances",
): Promise<void> {
  const current = Number((await Deno.readTextFile(path)).trim());
  const wanted = inotifyInstancesToSet(current);
  if (wanted !== undefined) await Deno.writeTextFile(path, `${wanted}\n`);
}
