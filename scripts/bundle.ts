/**
 * `deno task bundle`: one self-contained ES module of mca (`dist/mca.js`) that `deno run` executes
 * from an empty folder. The test images bundle with the same function, so that what runs in the
 * pods is what the release ships and the smoke test checks.
 *
 *   deno run --allow-all scripts/bundle.ts [entry (main.ts)] [output (dist/mca.js)]
 */
import { basename, dirname, join, resolve } from "node:path";

const REPO = new URL("../", import.meta.url).pathname;

/**
 * esbuild's own `require` in an ES module: it throws for every module, node's own
 * included. CommonJS packages reach it at import time (yaml's CommonJS build requires
 * "node:process"), so a bundle holding it fails as soon as such a package loads.
 */
const THROWING_REQUIRE = 'Dynamic require of "';

/** Options of bundle. */
export interface BundleOptions {
  /** Folder the entry point is resolved from (and whose deno.json applies); default the checkout. */
  cwd?: string;
}

/**
 * `deno bundle --platform deno` of `entry` into `output`, checked to load CommonJS packages.
 * deno bundle replaces esbuild's throwing `require` with one made by createRequire only when the
 * output file ends in `.js` (a `mca.js.tmp` kept the throwing one, which made `mca webhook` and
 * `mca hub` fail in pods), so it writes `<name>.js` in a fresh folder beside `output` and moves
 * it into place.
 */
export async function bundle(
  entry: string,
  output: string,
  options: BundleOptions = {},
): Promise<void> {
  const cwd = options.cwd ?? REPO;
  const target = resolve(cwd, output);
  await Deno.mkdir(dirname(target), { recursive: true });
  const scratch = await Deno.makeTempDir({ dir: dirname(target), prefix: ".bundle-" });
  try {
    const written = join(scratch, basename(target).replace(/(\.js)?$/, ".js"));
    const result = await new Deno.Command(Deno.execPath(), {
      args: ["bundle", "--quiet", "--platform", "deno", "-o", written, entry],
      cwd,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!result.success) {
      const detail = new TextDecoder().decode(result.stderr).trim().split("\n").slice(-10);
      throw new Error(`Cannot bundle "${entry}": ${detail.join("\n")}`);
    }
    checkBundle(await Deno.readTextFile(written), entry);
    await Deno.rename(written, target);
  } finally {
    await Deno.remove(scratch, { recursive: true }).catch(() => {});
  }
}

/** Throws when a bundle's text holds esbuild's throwing `require` (see THROWING_REQUIRE). */
export function checkBundle(text: string, entry: string): void {
  if (text.includes(THROWING_REQUIRE)) {
    throw new Error(
      `The bundle of "${entry}" cannot load CommonJS packages: its require throws ` +
        `"Dynamic require of ... is not supported" (deno bundle did not put createRequire in)`,
    );
  }
}

if (import.meta.main) {
  const [entry = "main.ts", output = "dist/mca.js"] = Deno.args;
  const started = Date.now();
  try {
    await bundle(entry, output, { cwd: Deno.cwd() });
  } catch (error) {
    console.error((error as Error).message);
    Deno.exit(1);
  }
  const size = (await Deno.stat(output)).size;
  console.error(
    `Bundled ${entry} into ${output} (${(size / 1024).toFixed(0)} KiB) in ${
      ((Date.now() - started) / 1000).toFixed(1)
    } s`,
  );
}
