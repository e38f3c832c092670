import { assertEquals, assertRejects } from "../_utils/assert.ts";
import { tokenFileProvider } from "../../src/kube/mod.ts";
import { tempDir } from "../_utils/temp_dir.ts";

Deno.test("tokenFileProvider() re-reads the file after the reload period, as client-go does", async () => {
  await using dir = await tempDir();
  const path = await dir.write("token", "one\n");
  let clock = 0;
  const provider = tokenFileProvider(path, { reloadAfterMs: 1000, now: () => clock });
  assertEquals(await provider.get(), { authorization: "Bearer one" });
  await Deno.writeTextFile(path, "two");
  clock = 999;
  assertEquals(await provider.get(), { authorization: "Bearer one" });
  clock = 1000;
  assertEquals(await provider.get(), { authorization: "Bearer two" });
});

Deno.test("tokenFileProvider() re-reads at once after the token was refused", async () => {
  await using dir = await tempDir();
  const path = await dir.write("token", "old");
  const provider = tokenFileProvider(path, { now: () => 0 });
  const refused = await provider.get();
  await Deno.writeTextFile(path, "new");
  provider.invalidate({ authorization: "Bearer unrelated" });
  assertEquals(await provider.get(), { authorization: "Bearer old" });
  provider.invalidate(refused);
  assertEquals(await provider.get(), { authorization: "Bearer new" });
});

Deno.test("tokenFileProvider() keeps the last good token when a re-read fails, and fails without one", async () => {
  await using dir = await tempDir();
  const path = await dir.write("token", "good");
  let clock = 0;
  const errors: string[] = [];
  const provider = tokenFileProvider(path, {
    reloadAfterMs: 10,
    now: () => clock,
    onReadError: (error) => errors.push(error.message),
  });
  assertEquals(await provider.get(), { authorization: "Bearer good" });
  await Deno.remove(path);
  clock = 100;
  assertEquals(await provider.get(), { authorization: "Bearer good" });
  assertEquals(errors.length, 1);
  await assertRejects(
    () => tokenFileProvider(path).get(),
    Error,
    `Cannot read token file "${path}"`,
  );
});

Deno.test("tokenFileProvider() starts from the kubeconfig token until the file can be read", async () => {
  await using dir = await tempDir();
  const provider = tokenFileProvider(`${dir.path}/later`, {
    initialToken: "initial",
    now: () => 0,
  });
  assertEquals(await provider.get(), { authorization: "Bearer initial" });
});
