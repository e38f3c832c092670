/**
 * The images the test nodes run, built from this checkout and the node binaries: the pod
 * sandbox (pause), CoreDNS, the mca image (laid out like the Dockerfile's final image, with the
 * pinned Deno and the bundle behind an `mca` launcher, since `deno compile` needs a download
 * this machine cannot make), and images of real clients (the demo's app, kubectl, client-go,
 * and Deno with tar for test programs). The images with Deno share one base layer.
 */
import { join } from "node:path";
import { buildImage, type BuiltImage, type ImageFile, type ImageSpec } from "./image_build.ts";
import type { NodeBinaries } from "./node_binaries.ts";
import { runHost, runHostOk } from "./_host_command.ts";
import { toHex } from "../bytes.ts";
import { bundle, checkBundle } from "../../scripts/bundle.ts";
import { markVersionUsed, pruneUnusedVersions } from "./_cache_versions.ts";

/** Every image a node gets. */
export interface TestImages {
  pause: BuiltImage;
  coredns: BuiltImage;
  /** `mca` as the chart runs it (entrypoint /usr/local/bin/mca, uid 65532). */
  mca: BuiltImage;
  /** The demo's app (scripts/demo/sample_app.ts), an unmodified @kubernetes/client-node program. */
  sampleApp: BuiltImage;
  /** Deno (entrypoint `deno`) and GNU tar (for `kubectl cp`), for test programs in pods. */
  deno: BuiltImage;
  kubectl: BuiltImage;
  /** The client-go program of tests/clients/go (entrypoint `clientgo`). */
  clientGo: BuiltImage;
}

/** Options of buildTestImages. */
export interface TestImagesOptions {
  binaries: NodeBinaries;
  /** Default `$XDG_CACHE_HOME/mca/images`. */
  cacheDir?: string;
  onProgress?: (message: string) => void;
}

const REPO = new URL("../../", import.meta.url).pathname;
const BUNDLE_SCRIPT = "scripts/bundle.ts";
/** uid and gid of distroless's "nonroot" user, which the Dockerfile's image runs as. */
export const NONROOT = 65532;

/** Builds (or finds cached) every test image. */
export async function buildTestImages(options: TestImagesOptions): Promise<TestImages> {
  const cacheDir = options.cacheDir ?? defaultImageCache();
  const build = (spec: ImageSpec) =>
    buildImage(spec, {
      cacheDir,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
  const deno = await denoRuntime();
  const passwd = identityFiles();
  const [mcaBundle, appBundle] = [
    await splitBundle(cacheDir, options.onProgress),
    await bundleCached("scripts/demo/sample_app.ts", cacheDir, options.onProgress),
  ];
  const denoBase: ImageSpec = {
    name: "deno-base",
    files: [...deno.files("/usr/local/bin/deno"), ...passwd],
    dirs: nonrootDirs(),
    entrypoint: ["/usr/local/bin/deno"],
  };
  const denoRun = [
    "/usr/local/bin/deno",
    "run",
    "--allow-all",
    "--quiet",
    "--no-config",
    "--no-lock",
  ];
  const denoEnv = {
    PATH: "/usr/local/bin:/usr/bin:/bin",
    HOME: "/home/nonroot",
    DENO_NO_UPDATE_CHECK: "1",
  };
  const kubectl = await staticBinary(options.binaries.kubectl, "kubectl");
  const clientGo = await buildStaticClientGo(cacheDir);
  return {
    pause: await build({
      name: "pause",
      files: [{ path: "/pause", source: options.binaries.pause, executable: true }],
      entrypoint: ["/pause"],
      user: "65535:65535",
    }),
    coredns: await build({
      name: "coredns",
      files: [{ path: "/coredns", source: options.binaries.coredns, executable: true }],
      entrypoint: ["/coredns"],
      user: `${NONROOT}:${NONROOT}`,
    }),
    // On the same base layer as the Deno images, so that a node stores and unpacks Deno once.
    mca: await build({
      name: "mca",
      base: denoBase,
      files: [
        ...mcaBundle,
        { path: "/usr/local/bin/mca", source: options.binaries.mcaLauncher, executable: true },
        ...caCertificates(),
      ],
      entrypoint: ["/usr/local/bin/mca"],
      cmd: ["--help"],
      user: `${NONROOT}:${NONROOT}`,
      env: { PATH: "/usr/local/bin:/usr/bin:/bin", HOME: "/home/nonroot" },
    }),
    sampleApp: await build({
      name: "sample-app",
      base: denoBase,
      files: [{ path: "/app/sample_app.js", source: appBundle }],
      entrypoint: [...denoRun, "/app/sample_app.js"],
      user: `${NONROOT}:${NONROOT}`,
      env: denoEnv,
    }),
    // GNU tar beside Deno: `kubectl cp` runs tar in the container.
    deno: await build({
      name: "deno",
      base: denoBase,
      files: await hostProgram("tar", "/usr/local/bin/tar"),
      entrypoint: ["/usr/local/bin/deno"],
      user: `${NONROOT}:${NONROOT}`,
      env: denoEnv,
    }),
    kubectl: await build({
      name: "kubectl",
      files: [{ path: "/usr/local/bin/kubectl", source: kubectl, executable: true }, ...passwd],
      dirs: nonrootDirs(),
      entrypoint: ["/usr/local/bin/kubectl"],
      user: `${NONROOT}:${NONROOT}`,
      env: { PATH: "/usr/local/bin", HOME: "/home/nonroot" },
    }),
    clientGo: await build({
      name: "clientgo",
      files: [{ path: "/usr/local/bin/clientgo", source: clientGo, executable: true }, ...passwd],
      dirs: nonrootDirs(),
      entrypoint: ["/usr/local/bin/clientgo"],
      user: `${NONROOT}:${NONROOT}`,
      env: { PATH: "/usr/local/bin", HOME: "/home/nonroot" },
    }),
  };
}

/** `$XDG_CACHE_HOME/mca/images` (default ~/.cache). */
export function defaultImageCache(): string {
  const cache = Deno.env.get("XDG_CACHE_HOME") || join(Deno.env.get("HOME") ?? "/tmp", ".cache");
  return join(cache, "mca", "images");
}

/** The pinned Deno running us, with the dynamic loader and libraries it links (ldd). */
async function denoRuntime(): Promise<{ files(at: string): ImageFile[] }> {
  const binary = Deno.execPath();
  const libraries = await sharedLibraries(binary);
  return {
    files: (at) => [
      { path: at, source: binary, executable: true },
      ...libraries.map((path) => ({ path, source: path, mode: 0o555 })),
    ],
  };
}

/** A program of this machine (found on the PATH) with the libraries it links. */
async function hostProgram(name: string, at: string): Promise<ImageFile[]> {
  const found = await runHost("sh", ["-c", `command -v ${name}`]);
  const binary = found.stdout.trim();
  if (found.code !== 0 || !binary) throw new Error(`"${name}" is not installed on this machine`);
  const libraries = await sharedLibraries(binary);
  return [
    { path: at, source: binary, executable: true },
    ...libraries.map((path) => ({ path, source: path, mode: 0o555 })),
  ];
}

/** The shared libraries and loader of a binary, by the paths it loads them from. */
async function sharedLibraries(binary: string): Promise<string[]> {
  const result = await runHost("ldd", [binary]);
  if (result.code !== 0) return []; // "not a dynamic executable"
  const paths = new Set<string>();
  for (const line of result.stdout.split("\n")) {
    const match = line.match(/(?:=>\s*)?(\/\S+)\s+\(0x/);
    if (match?.[1]) paths.add(match[1]);
  }
  return [...paths];
}

/** A binary the image can hold as it is: refused when it links shared libraries. */
async function staticBinary(path: string, what: string): Promise<string> {
  if ((await sharedLibraries(path)).length > 0) {
    throw new Error(
      `The ${what} at "${path}" is dynamically linked; the test image needs a static one ` +
        `(built with CGO_ENABLED=0, as "scripts/deno task testenv:build" does)`,
    );
  }
  return path;
}

/** /etc/passwd and /etc/group with root and distroless's nonroot user, so that ids have names. */
function identityFiles(): ImageFile[] {
  return [
    {
      path: "/etc/passwd",
      content:
        `root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:${NONROOT}:${NONROOT}:nonroot:/home/nonroot:/sbin/nologin\n`,
    },
    { path: "/etc/group", content: `root:x:0:\nnonroot:x:${NONROOT}:\n` },
  ];
}

function nonrootDirs() {
  return [
    { path: "/tmp", mode: 0o1777 },
    { path: "/home/nonroot", mode: 0o700, owner: [NONROOT, NONROOT] as [number, number] },
  ];
}

function caCertificates(): ImageFile[] {
  const bundle = "/etc/ssl/certs/ca-certificates.crt";
  try {
    Deno.statSync(bundle);
    return [{ path: bundle, source: bundle }];
  } catch {
    return [];
  }
}

/**
 * The bundle of an entry point of this checkout, made by `deno task bundle`'s own function (so
 * the pods run what the release ships), cached by a hash of the sources it can import
 * (deno.json, deno.lock, main.ts, src/, the bundle script, the entry point).
 */
async function bundleCached(
  entry: string,
  cacheDir: string,
  onProgress?: (message: string) => void,
): Promise<string> {
  const key = await checkoutHash([
    entry,
    "deno.json",
    "deno.lock",
    "main.ts",
    "src",
    BUNDLE_SCRIPT,
  ]);
  const dir = join(cacheDir, "bundles");
  const name = entry.replace(/[^a-z0-9]+/gi, "_");
  const output = join(dir, `${name}-${key}.js`);
  if (await Deno.stat(output).catch(() => undefined)) {
    await markVersionUsed(output);
    return output;
  }
  const started = Date.now();
  await bundle(entry, output, { cwd: REPO });
  await pruneUnusedVersions(dir, new RegExp(`^${name}-[0-9a-f]{16}\\.js$`), output);
  onProgress?.(`Bundled ${entry} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return output;
}

/**
 * `deno bundle --code-splitting` of main.ts: the entry (renamed `mca.js`) and its chunks in one
 * folder. main.ts imports each mode when it runs; in one file every mode's modules (and every
 * `node:` module they import) load at start, where the binary `deno compile` makes loads them
 * only when imported: the sidecar and its postStart hook start like the release then. No
 * require shim here: split output gets `__require` from createRequire (in the chunk of
 * esbuild's helpers, which every chunk imports, so `node:module` loads at every start, ~70 ms
 * that the compiled binary does not spend). Cached like bundle().
 */
async function splitBundle(
  cacheDir: string,
  onProgress?: (message: string) => void,
): Promise<ImageFile[]> {
  const key = await checkoutHash(["deno.json", "deno.lock", "main.ts", "src"]);
  const dir = join(cacheDir, "bundles");
  const output = join(dir, `mca-split-${key}`);
  if (await Deno.stat(output).catch(() => undefined)) {
    await markVersionUsed(output);
  } else {
    await Deno.mkdir(dir, { recursive: true });
    const started = Date.now();
    await Deno.remove(`${output}.tmp`, { recursive: true }).catch(() => {});
    await runHostOk(Deno.execPath(), [
      "bundle",
      "--quiet",
      "--platform",
      "deno",
      "--code-splitting",
      "--outdir",
      `${output}.tmp`,
      "main.ts",
    ], { cwd: REPO });
    for await (const chunk of Deno.readDir(`${output}.tmp`)) {
      checkBundle(await Deno.readTextFile(join(`${output}.tmp`, chunk.name)), "main.ts");
    }
    await Deno.rename(join(`${output}.tmp`, "main.js"), join(`${output}.tmp`, "mca.js"));
    await Deno.rename(`${output}.tmp`, output);
    await pruneUnusedVersions(dir, /^mca-split-[0-9a-f]{16}$/, output);
    onProgress?.(`Bundled main.ts (split) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  const files: ImageFile[] = [];
  for await (const file of Deno.readDir(output)) {
    files.push({ path: `/usr/local/lib/mca/${file.name}`, source: join(output, file.name) });
  }
  return files.sort((a, b) => a.path.localeCompare(b.path));
}

/** SHA-256 (16 hex digits) of files and folders of the checkout, by path and content. */
async function checkoutHash(paths: string[]): Promise<string> {
  const files: string[] = [];
  const walk = (relative: string) => {
    const info = Deno.statSync(join(REPO, relative));
    if (info.isFile) {
      files.push(relative);
      return;
    }
    for (const entry of Deno.readDirSync(join(REPO, relative))) walk(join(relative, entry.name));
  };
  for (const path of paths) walk(path);
  files.sort();
  const hasher = new TextEncoder();
  const chunks: Uint8Array[] = [];
  for (const file of files) {
    chunks.push(hasher.encode(`${file}\0`), await Deno.readFile(join(REPO, file)));
  }
  const total = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length + 1, 0));
  let at = 0;
  for (const chunk of chunks) {
    total.set(chunk, at);
    at += chunk.length + 1;
  }
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", total))).slice(0, 16);
}

/** The client-go test program built static (Go caches the build; the binary is rewritten). */
async function buildStaticClientGo(cacheDir: string): Promise<string> {
  const output = join(cacheDir, "bin", "clientgo");
  await Deno.mkdir(join(cacheDir, "bin"), { recursive: true });
  await runHostOk("go", ["build", "-trimpath", "-ldflags", "-s -w", "-o", `${output}.tmp`, "."], {
    cwd: join(REPO, "tests", "clients", "go"),
    env: { CGO_ENABLED: "0" },
  });
  await Deno.rename(`${output}.tmp`, output);
  return output;
}
