import { assertEquals } from "../_utils/assert.ts";
import { tempDir } from "../_utils/temp_dir.ts";
import {
  inotifyInstancesToSet,
  MIN_INOTIFY_INSTANCES,
  raiseInotifyLimit,
} from "../../src/testenv/_host_limits.ts";

Deno.test("inotifyInstancesToSet() raises the kernel's default and never lowers a higher limit", () => {
  assertEquals(inotifyInstancesToSet(128), MIN_INOTIFY_INSTANCES);
  assertEquals(inotifyInstancesToSet(MIN_INOTIFY_INSTANCES - 1), MIN_INOTIFY_INSTANCES);
  assertEquals(inotifyInstancesToSet(MIN_INOTIFY_INSTANCES), undefined);
  assertEquals(inotifyInstancesToSet(65536), undefined);
});

Deno.test("raiseInotifyLimit() writes the limit only when it is too low", async () => {
  await using dir = await tempDir();
  const low = await dir.write("low", "128\n");
  const high = await dir.write("high", "8192\n");
  await raiseInotifyLimit(low);
  await raiseInotifyLimit(high);
  assertEquals(await Deno.readTextFile(low), `${MIN_INOTIFY_INSTANCES}\n`);
  assertEquals(await Deno.readTextFile(high), "8192\n");
});
