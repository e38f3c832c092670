/**
 * Versions of a cached artefact (an image archive, a bundle) side by side in one folder of the
 * machine's cache. Several checkouts of the project share that cache, each with its own version
 * in use: a version is removed only once nobody has used it for a day, never because another
 * checkout made a new one (that removed archives and bundles other runs were about to read).
 */

/** How long an unused version is kept. */
export const UNUSED_VERSION_TTL_MS = 24 * 60 * 60 * 1000;

/** Records that `path` was just used (its modification time), so that it is kept. */
export async function markVersionUsed(path: string, now = new Date()): Promise<void> {
  await Deno.utime(path, now, now).catch(() => {});
}

/** Removes the files of `dir` matching `pattern`, other than `keep`, unused for a day. */
export async function pruneUnusedVersions(
  dir: string,
  pattern: RegExp,
  keep: string,
  now = Date.now(),
): Promise<string[]> {
  const removed: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (!pattern.test(entry.name) || path === keep) continue;
    const modified = (await Deno.stat(path).catch(() => undefined))?.mtime?.getTime();
    if (modified === undefined || now - modified < UNUSED_VERSION_TTL_MS) continue;
    // A version may be a folder (a code-split bundle).
    await Deno.remove(path, { recursive: true }).then(() => removed.push(path), () => {});
  }
  return removed;
}
