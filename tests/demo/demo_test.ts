import { assert, assertEquals, assertStringIncludes } from "../_utils/assert.ts";
import { tempDir } from "../_utils/temp_dir.ts";

const DEMO = new URL("../../scripts/demo.ts", import.meta.url).pathname;

Deno.test("deno task demo: the app's objects land where the routes say, checked on each cluster", async () => {
  await using temp = await tempDir();
  const dir = temp.path;
  {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", "--quiet", DEMO, "--exit", "--dir", `${dir}/demo`],
    }).output();
    const stdout = new TextDecoder().decode(output.stdout);
    const stderr = new TextDecoder().decode(output.stderr);
    assertEquals(output.code, 0, `demo failed:\n${stdout}\n${stderr}`);
    for (
      const line of [
        "✓ order-1001 is in east only",
        "✓ order-1002 is in west only",
        "✓ order-1003 is in host only",
        "CREATE ConfigMap shop/order-1001 → east",
        "app → sidecar → hub → east's agent → east, as system:serviceaccount:shop:inventory",
        "LIST ConfigMaps in shop: merged from host, east, west",
        "[app] listed 3 ConfigMaps",
        "The webhook injected the sidecar",
        "Demo complete",
      ]
    ) {
      assertStringIncludes(stdout, line);
    }
    // Stopped means stopped: no process of the demo is left.
    const left = await new Deno.Command("pgrep", { args: ["-f", `${dir}/demo`] }).output();
    assert(!left.success, `processes left: ${new TextDecoder().decode(left.stdout)}`);
  }
});
