/** The test environment cleans up after itself: processes, ports and folders. */
import { assert, assertEquals, assertRejects, assertStringIncludes } from "../_utils/assert.ts";
import { findBinaries, startTestEnv } from "../../src/testenv/mod.ts";
import { tempDir } from "../_utils/temp_dir.ts";

function processIds(logDir: string): number[] {
  const out = new Deno.Command("pgrep", { args: ["-f", logDir], stdout: "piped" }).outputSync();
  return new TextDecoder().decode(out.stdout).split("\n").filter(Boolean).map(Number);
}

Deno.test("startTestEnv() stops every process, frees the ports and removes its folder", async () => {
  const env = await startTestEnv({ clusters: ["solo"] });
  const cluster = env.cluster("solo");
  const port = Number(new URL(cluster.url).port);
  const response = await cluster.client.get<{ gitVersion: string }>("/version");
  assertEquals(response.gitVersion, "v1.34.10");
  assert(
    processIds(env.dir).length >= 2,
    "etcd and kube-apiserver run with the folder in their arguments",
  );
  await env.stop();
  assertEquals(processIds(env.dir), []);
  assertEquals(await Deno.stat(env.dir).catch(() => undefined), undefined);
  await assertRejects(() => Deno.connect({ hostname: "127.0.0.1", port }));
});

Deno.test("findBinaries() says exactly what to install when binaries are missing", async () => {
  await using dir = await tempDir();
  const error = await assertRejects(() =>
    findBinaries({ env: (name) => name === "MCA_TESTENV_BIN" ? dir.path : undefined })
  );
  assertStringIncludes(error.message, `"${dir.path}/kube-apiserver"`);
  assertStringIncludes(error.message, "setup-envtest");
  const fromCache = await assertRejects(() =>
    findBinaries({ env: (name) => name === "XDG_CACHE_HOME" ? dir.path : undefined })
  );
  assertStringIncludes(fromCache.message, "scripts/deno task testenv:build");
  assertStringIncludes(fromCache.message, "https://go.dev/dl");
});
