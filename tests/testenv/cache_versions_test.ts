import { assertEquals } from "../_utils/assert.ts";
import { tempDir } from "../_utils/temp_dir.ts";
import {
  markVersionUsed,
  pruneUnusedVersions,
  UNUSED_VERSION_TTL_MS,
} from "../../src/testenv/_cache_versions.ts";

Deno.test("pruneUnusedVersions() keeps the versions other checkouts used within a day and removes older ones", async () => {
  await using dir = await tempDir();
  const now = Date.now();
  const ago = (ms: number) => new Date(now - ms);
  const files: Record<string, Date> = {
    "mca-0000000000000001.tar": ago(UNUSED_VERSION_TTL_MS + 60_000), // unused for a day: removed
    "mca-0000000000000002.tar": ago(60_000), // another checkout's, in use: kept
    "mca-0000000000000003.tar": ago(2 * UNUSED_VERSION_TTL_MS), // the one we keep: kept
    "coredns-0000000000000001.tar": ago(2 * UNUSED_VERSION_TTL_MS), // another image: kept
  };
  for (const [name, time] of Object.entries(files)) {
    await Deno.utime(await dir.write(name, ""), time, time);
  }
  const keep = `${dir.path}/mca-0000000000000003.tar`;
  const removed = await pruneUnusedVersions(dir.path, /^mca-[0-9a-f]{16}\.tar$/, keep, now);
  assertEquals(removed, [`${dir.path}/mca-0000000000000001.tar`]);
  assertEquals([...Deno.readDirSync(dir.path)].map((e) => e.name).sort(), [
    "coredns-0000000000000001.tar",
    "mca-0000000000000002.tar",
    "mca-0000000000000003.tar",
  ]);
});

Deno.test("markVersionUsed() renews a version, so that it outlives a prune a day later", async () => {
  await using dir = await tempDir();
  const old = new Date(Date.now() - 2 * UNUSED_VERSION_TTL_MS);
  const path = await dir.write("app-0000000000000001.js", "");
  await Deno.utime(path, old, old);
  await markVersionUsed(path);
  const removed = await pruneUnusedVersions(dir.path, /^app-/, `${dir.path}/other.js`);
  assertEquals(removed, []);
});
