/**
 * The bundle (`deno task bundle`, and the same function for the test images' mca.js): it must
 * load CommonJS packages, which reach `require` as soon as they are imported (yaml's CommonJS
 * build requires "node:process"). A bundle with esbuild's throwing `require` made `mca webhook`
 * and `mca hub` exit with `Dynamic require of "node:process" is not supported` in pods.
 */
import { assertEquals, assertStringIncludes, assertThrows } from "../_utils/assert.ts";
import { createTestPki } from "../_utils/test_pki.ts";
import { tempDir } from "../_utils/temp_dir.ts";
import { bundle, checkBundle } from "../../scripts/bundle.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

// Modes whose modules import yaml (and the other CommonJS packages) when they load.
const CASES = [
  "webhook --kubeconfig missing.kubeconfig",
  "hub --kubeconfig missing.kubeconfig",
  "agent manifest --hub https://hub.example.com:9443 --cluster east --hub-ca-file hub-ca.crt",
  "kubeconfig --kubeconfig missing.kubeconfig",
];

Deno.test("bundle(): the modes that load CommonJS packages answer from the bundle as from the source", async () => {
  await using dir = await tempDir("mca-bundle-");
  await bundle("main.ts", `${dir.path}/out/mca.js`);
  // Run from a folder holding only the bundle and the input, as `deno run mca.js` would be.
  await dir.write("hub-ca.crt", (await createTestPki()).ca.certificatePem);
  for (const command of CASES) {
    const args = command.split(" ");
    const [fromBundle, fromSource] = await Promise.all([
      run([`${dir.path}/out/mca.js`, ...args], dir.path),
      run([MAIN, ...args], dir.path),
    ]);
    assertEquals(fromBundle, fromSource, `mca ${command}: the bundle differs from the source`);
  }
});

Deno.test("checkBundle() refuses esbuild's throwing require and accepts createRequire", () => {
  const throwing = [
    "var __require = /* @__PURE__ */ ((x) => typeof require !== 'undefined' ? require : x)",
    "(function(x) {",
    "  throw Error('Dynamic require of \"' + x + '\" is not supported');",
    "});",
  ].join("\n");
  const error = assertThrows(() => checkBundle(throwing, "main.ts"));
  assertStringIncludes(error.message, 'The bundle of "main.ts" cannot load CommonJS');
  checkBundle(
    'import { createRequire as __deno_internal_createRequire } from "node:module";\n' +
      "var __require = __deno_internal_createRequire(import.meta.url);\n",
    "main.ts",
  );
});

async function run(args: string[], cwd: string) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--quiet", ...args],
    cwd,
    stdin: "null",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    // Paths differ between the two (the bundle's folder, the checkout): compare without them.
    stderr: decoder.decode(output.stderr).replaceAll(cwd, "<dir>"),
  };
}
