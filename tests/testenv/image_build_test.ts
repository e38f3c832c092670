/** Images built without a registry: cached by content, laid out as asked. */
import { assert, assertEquals, assertNotEquals } from "../_utils/assert.ts";
import { buildImage, imageKey, type ImageSpec } from "../../src/testenv/mod.ts";
import { tempDir } from "../_utils/temp_dir.ts";
import { UNUSED_VERSION_TTL_MS } from "../../src/testenv/_cache_versions.ts";

const spec: ImageSpec = {
  name: "probe",
  files: [{ path: "/hello.txt", content: "hello" }],
  entrypoint: ["/bin/true"],
  user: "65532:65532",
};

Deno.test("imageKey() changes with any file's content or the configuration, and only then", async () => {
  const key = await imageKey(spec);
  assertEquals(await imageKey({ ...spec }), key);
  assertNotEquals(
    await imageKey({ ...spec, files: [{ path: "/hello.txt", content: "hello!" }] }),
    key,
  );
  assertNotEquals(await imageKey({ ...spec, files: [{ path: "/hi.txt", content: "hello" }] }), key);
  assertNotEquals(await imageKey({ ...spec, user: "0:0" }), key);
  assertNotEquals(await imageKey({ ...spec, entrypoint: ["/bin/false"] }), key);
  assertNotEquals(await imageKey({ ...spec, base: { ...spec, name: "base" } }), key);
});

Deno.test("buildImage() writes a docker-archive tagged with the content hash, once", async () => {
  await using cache = await tempDir();
  const image = await buildImage(spec, { cacheDir: cache.path });
  assertEquals(image.ref, `mca.local/probe:${await imageKey(spec)}`);
  const manifest = JSON.parse(new TextDecoder().decode(
    new Deno.Command("tar", { args: ["xOf", image.archive, "manifest.json"], stdout: "piped" })
      .outputSync().stdout,
  ));
  assertEquals(manifest[0].RepoTags, [image.ref]);
  const config = JSON.parse(new TextDecoder().decode(
    new Deno.Command("tar", { args: ["xOf", image.archive, manifest[0].Config], stdout: "piped" })
      .outputSync().stdout,
  ));
  assertEquals(config.config.User, "65532:65532");
  assertEquals(config.config.Entrypoint, ["/bin/true"]);
  const built = (await Deno.stat(image.archive)).ino;
  // Cached: asking again builds nothing (the same file, not a new one renamed into place).
  assertEquals((await buildImage(spec, { cacheDir: cache.path })).archive, image.archive);
  assertEquals((await Deno.stat(image.archive)).ino, built);
  // A changed input makes a new archive; the old one stays while it may be in use (another
  // checkout's), and goes once unused for a day.
  const changed = await buildImage({ ...spec, files: [{ path: "/hello.txt", content: "bye" }] }, {
    cacheDir: cache.path,
  });
  assertNotEquals(changed.archive, image.archive);
  assert(await Deno.stat(changed.archive));
  assert(await Deno.stat(image.archive));
  const dayAndMore = new Date(Date.now() - UNUSED_VERSION_TTL_MS - 60_000);
  await Deno.utime(image.archive, dayAndMore, dayAndMore);
  await buildImage({ ...spec, files: [{ path: "/hello.txt", content: "again" }] }, {
    cacheDir: cache.path,
  });
  assertEquals(await Deno.stat(image.archive).catch(() => undefined), undefined);
  assert(await Deno.stat(changed.archive));
});
