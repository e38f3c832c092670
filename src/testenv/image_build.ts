/**
 * Container images without a registry or a Docker engine: a root filesystem assembled from
 * files, made into an OCI image with umoci, and written as a docker-archive by skopeo, which
 * `ctr images import` loads into a node's containerd. Images are cached by content: the tag and
 * the archive's name carry a hash of every input, so a changed input makes a new image and an
 * unchanged one is never rebuilt.
 */
import { dirname, join } from "node:path";
import { toHex } from "../bytes.ts";
import { markVersionUsed, pruneUnusedVersions } from "./_cache_versions.ts";
import { runHostOk } from "./_host_command.ts";

/** Bump when the way images are laid out changes, so that cached archives are rebuilt. */
const LAYOUT_REVISION = "1";

/** A file in the image: copied from the machine, or given as content. */
export interface ImageFile {
  /** Absolute path inside the image. */
  path: string;
  /** A file on this machine (its content, not its mode or owner, is copied). */
  source?: string;
  content?: string | Uint8Array;
  /** Default 0o444 (0o555 with `executable`). */
  mode?: number;
  executable?: boolean;
}

/** A folder in the image (for one that needs an owner or mode, such as /tmp). */
export interface ImageDir {
  path: string;
  mode: number;
  /** uid:gid, default 0:0. */
  owner?: [number, number];
}

/** What an image holds and how it runs. */
export interface ImageSpec {
  /** Repository name under mca.local, e.g. "mca" gives "mca.local/mca:<hash>". */
  name: string;
  /** An image whose layers come first (built and cached on its own); its config is replaced. */
  base?: ImageSpec;
  files: ImageFile[];
  dirs?: ImageDir[];
  entrypoint: string[];
  cmd?: string[];
  /** "uid:gid"; default "0:0". */
  user?: string;
  env?: Record<string, string>;
  workingDir?: string;
}

/** A built image: its reference and the docker-archive holding it. */
export interface BuiltImage {
  name: string;
  ref: string;
  archive: string;
}

/** Options of buildImage. */
export interface BuildImageOptions {
  /** Where archives and base layouts are cached. */
  cacheDir: string;
  onProgress?: (message: string) => void;
}

/** Builds the image unless an archive with the same content hash is cached; returns it. */
export async function buildImage(spec: ImageSpec, options: BuildImageOptions): Promise<BuiltImage> {
  const key = await imageKey(spec);
  const ref = `mca.local/${spec.name}:${key}`;
  const archive = join(options.cacheDir, `${spec.name}-${key}.tar`);
  if (await exists(archive)) {
    await markVersionUsed(archive);
    return { name: spec.name, ref, archive };
  }
  const started = Date.now();
  await Deno.mkdir(options.cacheDir, { recursive: true });
  const work = await Deno.makeTempDir({ dir: options.cacheDir, prefix: `.build-${spec.name}-` });
  try {
    const layout = join(work, "oci");
    if (spec.base) {
      await Deno.mkdir(layout);
      await runHostOk("cp", ["-a", `${await buildBaseLayout(spec.base, options)}/.`, layout]);
    } else {
      await runHostOk("umoci", ["init", "--layout", layout]);
      await runHostOk("umoci", ["new", "--image", `${layout}:image`]);
    }
    await insertLayer(spec, layout, join(work, "rootfs"));
    await configure(spec, layout);
    await runHostOk("skopeo", [
      "copy",
      "--quiet",
      "--policy",
      await policyFile(work),
      `oci:${layout}:image`,
      `docker-archive:${archive}.tmp:${ref}`,
    ]);
    await Deno.rename(`${archive}.tmp`, archive);
  } finally {
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
  await pruneUnusedVersions(
    options.cacheDir,
    new RegExp(`^${spec.name}-[0-9a-f]{16}\\.tar$`),
    archive,
  );
  options.onProgress?.(
    `Built image ${ref} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  return { name: spec.name, ref, archive };
}

/** The content hash of an image's inputs (16 hex digits): files by content, config as JSON. */
export async function imageKey(spec: ImageSpec): Promise<string> {
  const files = await Promise.all(spec.files.map(async (file) => ({
    path: file.path,
    mode: fileMode(file),
    sha256: file.source !== undefined
      ? await sourceFileHash(file.source)
      : await sha256(toBytes(file.content ?? "")),
  })));
  const described = {
    revision: LAYOUT_REVISION,
    arch: ociArchitecture(),
    base: spec.base ? await imageKey(spec.base) : null,
    files,
    dirs: spec.dirs ?? [],
    entrypoint: spec.entrypoint,
    cmd: spec.cmd ?? [],
    user: spec.user ?? "0:0",
    env: spec.env ?? {},
    workingDir: spec.workingDir ?? "/",
  };
  return (await sha256(new TextEncoder().encode(JSON.stringify(described)))).slice(0, 16);
}

/** The OCI layout of a base image, cached by its key so that images built on it share its layers byte for byte. */
async function buildBaseLayout(spec: ImageSpec, options: BuildImageOptions): Promise<string> {
  const layout = join(options.cacheDir, "layouts", `${spec.name}-${await imageKey(spec)}`);
  if (await exists(layout)) return layout;
  await Deno.mkdir(dirname(layout), { recursive: true });
  const work = await Deno.makeTempDir({ dir: dirname(layout), prefix: `.build-${spec.name}-` });
  try {
    const building = join(work, "oci");
    await runHostOk("umoci", ["init", "--layout", building]);
    await runHostOk("umoci", ["new", "--image", `${building}:image`]);
    await insertLayer(spec, building, join(work, "rootfs"));
    await Deno.rename(building, layout);
  } finally {
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
  return layout;
}

async function insertLayer(spec: ImageSpec, layout: string, rootfs: string): Promise<void> {
  await Deno.mkdir(rootfs, { mode: 0o755 });
  for (const dir of spec.dirs ?? []) {
    const path = join(rootfs, dir.path);
    await Deno.mkdir(path, { recursive: true });
    await Deno.chmod(path, dir.mode);
    if (dir.owner) await Deno.chown(path, dir.owner[0], dir.owner[1]);
  }
  for (const file of spec.files) {
    const path = join(rootfs, file.path);
    await Deno.mkdir(dirname(path), { recursive: true });
    if (file.source !== undefined) await Deno.copyFile(file.source, path);
    else await Deno.writeFile(path, toBytes(file.content ?? ""));
    await Deno.chmod(path, fileMode(file));
  }
  await runHostOk("umoci", ["insert", "--image", `${layout}:image`, rootfs, "/"]);
}

async function configure(spec: ImageSpec, layout: string): Promise<void> {
  const args = [
    "config",
    "--image",
    `${layout}:image`,
    "--os",
    "linux",
    "--architecture",
    ociArchitecture(),
    "--config.user",
    spec.user ?? "0:0",
    "--config.workingdir",
    spec.workingDir ?? "/",
    "--clear=config.entrypoint",
    "--clear=config.cmd",
    "--clear=config.env",
  ];
  for (const part of spec.entrypoint) args.push("--config.entrypoint", part);
  for (const part of spec.cmd ?? []) args.push("--config.cmd", part);
  for (const [name, value] of Object.entries(spec.env ?? {})) {
    args.push("--config.env", `${name}=${value}`);
  }
  await runHostOk("umoci", args);
}

/** A signature policy that accepts exactly what we copy: our own OCI layouts. */
async function policyFile(dir: string): Promise<string> {
  const path = join(dir, "policy.json");
  await Deno.writeTextFile(
    path,
    JSON.stringify({
      default: [{ type: "reject" }],
      transports: { oci: { "": [{ type: "insecureAcceptAnything" }] } },
    }),
  );
  return path;
}

function fileMode(file: ImageFile): number {
  return file.mode ?? (file.executable ? 0o555 : 0o444);
}

function ociArchitecture(): string {
  return Deno.build.arch === "aarch64" ? "arm64" : "amd64";
}

function toBytes(content: string | Uint8Array): Uint8Array {
  return typeof content === "string" ? new TextEncoder().encode(content) : content;
}

const sourceHashes = new Map<string, Promise<string>>();

/** A source file's hash, remembered while its size and modification time stay the same. */
async function sourceFileHash(path: string): Promise<string> {
  const info = await Deno.stat(path);
  const memo = `${path}\0${info.size}\0${info.mtime?.getTime()}\0${info.ino}`;
  let hash = sourceHashes.get(memo);
  if (!hash) {
    hash = Deno.readFile(path).then(sha256);
    sourceHashes.set(memo, hash);
  }
  return await hash;
}

async function sha256(bytes: Uint8Array): Promise<string> {
  return toHex(
    new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>)),
  );
}

async function exists(path: string): Promise<boolean> {
  return (await Deno.stat(path).catch(() => undefined)) !== undefined;
}
