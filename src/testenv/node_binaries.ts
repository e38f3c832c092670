/**
 * The binaries of real nodes, built once from the Go module proxy into the cache like
 * kube-apiserver: kubelet, kube-proxy, kube-controller-manager and kube-scheduler (the
 * `kubernetes-node` wrapper module), CoreDNS (the `coredns` wrapper module), and the small
 * programs inside the locally built images (pause, the mca launcher).
 */
import { join } from "node:path";
import { kubernetesVersionLdflags } from "./binaries.ts";
import { buildGoProgram, type BuildProgress, hasGo } from "./go_build.ts";
import { COREDNS_VERSION, KUBERNETES_VERSION } from "./versions.ts";
import { toHex } from "../bytes.ts";

/** Paths of the node binaries. */
export interface NodeBinaries {
  kubelet: string;
  kubeProxy: string;
  kubeControllerManager: string;
  kubeScheduler: string;
  coredns: string;
  /** kubectl of the same release, static, for the kubectl image. */
  kubectl: string;
  /** The pod sandbox's process (static). */
  pause: string;
  /** "mca" in the mca image: runs the bundle with Deno (static). */
  mcaLauncher: string;
}

/** Inputs that decide the cache folders. */
export interface NodeBinaryOptions {
  env?: (name: string) => string | undefined;
  /** Folder of the Go wrapper modules; default scripts/testenv of this repository. */
  wrappersDir?: string;
}

const WRAPPERS = new URL("../../scripts/testenv/", import.meta.url).pathname;

/** Where each node binary is kept (present or not). */
export async function nodeBinaryPaths(options: NodeBinaryOptions = {}): Promise<NodeBinaries> {
  const env = options.env ?? ((name: string) => Deno.env.get(name));
  const cache = join(
    env("XDG_CACHE_HOME") || join(env("HOME") ?? "/tmp", ".cache"),
    "mca",
    "testenv",
  );
  const kubernetes = join(cache, `${KUBERNETES_VERSION}-nodes`);
  // The image programs are ours: their folder is named after their sources' hash.
  const images = join(
    cache,
    `images-${await sourceHash(join(options.wrappersDir ?? WRAPPERS, "images"))}`,
  );
  return {
    kubelet: join(kubernetes, "kubelet"),
    kubeProxy: join(kubernetes, "kube-proxy"),
    kubeControllerManager: join(kubernetes, "kube-controller-manager"),
    kubeScheduler: join(kubernetes, "kube-scheduler"),
    coredns: join(cache, `coredns-${COREDNS_VERSION}`, "coredns"),
    kubectl: join(kubernetes, "kubectl"),
    pause: join(images, "pause"),
    mcaLauncher: join(images, "mca-launcher"),
  };
}

/** Finds the node binaries, or throws naming the missing ones and the command that builds them. */
export async function findNodeBinaries(options: NodeBinaryOptions = {}): Promise<NodeBinaries> {
  const paths = await nodeBinaryPaths(options);
  const missing = Object.values(paths).filter((path) => !isFile(path));
  if (missing.length > 0) {
    throw new Error(
      `The test nodes are missing ${
        missing.map((m) => `"${m}"`).join(", ")
      }. Build them once with ` +
        `"scripts/deno task testenv:build" (needs Go 1.24+ from https://go.dev/dl and the Go module proxy; ` +
        `the first build takes 10-20 minutes of CPU)`,
    );
  }
  return paths;
}

/** Options of buildNodeBinaries. */
export interface BuildNodeBinariesOptions extends NodeBinaryOptions {
  onProgress?: BuildProgress;
  /** Rebuild even when the binaries exist. */
  force?: boolean;
}

/** Builds the missing node binaries into the cache (each appears only when complete). */
export async function buildNodeBinaries(
  options: BuildNodeBinariesOptions = {},
): Promise<NodeBinaries> {
  const progress = options.onProgress ?? (() => {});
  const paths = await nodeBinaryPaths(options);
  const wrappers = options.wrappersDir ?? WRAPPERS;
  const kubernetesLdflags = ["-s -w", ...kubernetesVersionLdflags()].join(" ");
  const kubernetes = (name: string, output: string) => ({
    name,
    version: KUBERNETES_VERSION,
    pkg: `k8s.io/kubernetes/cmd/${name}`,
    moduleDir: join(wrappers, "kubernetes-node"),
    ldflags: kubernetesLdflags,
    output,
  });
  const programs = [
    kubernetes("kubelet", paths.kubelet),
    kubernetes("kube-controller-manager", paths.kubeControllerManager),
    kubernetes("kube-scheduler", paths.kubeScheduler),
    kubernetes("kube-proxy", paths.kubeProxy),
    { ...kubernetes("kubectl", paths.kubectl), moduleDir: join(wrappers, "kube-apiserver") },
    {
      name: "coredns",
      version: COREDNS_VERSION,
      pkg: ".",
      moduleDir: join(wrappers, "coredns"),
      ldflags: "-s -w",
      output: paths.coredns,
    },
    {
      name: "pause",
      version: "(local)",
      pkg: "./pause",
      moduleDir: join(wrappers, "images"),
      ldflags: "-s -w",
      output: paths.pause,
    },
    {
      name: "mca-launcher",
      version: "(local)",
      pkg: "./mca-launcher",
      moduleDir: join(wrappers, "images"),
      ldflags: "-s -w",
      output: paths.mcaLauncher,
    },
  ];
  const todo = programs.filter((program) => options.force || !isFile(program.output));
  if (todo.length === 0) {
    progress(`Using the node binaries in ${join(paths.kubelet, "..")}`);
    return paths;
  }
  if (!(await hasGo())) {
    throw new Error(
      `Building the test nodes needs the Go toolchain (1.24+), which was not found on PATH: ` +
        `install it from https://go.dev/dl`,
    );
  }
  for (const program of todo) await buildGoProgram(program, { onProgress: progress });
  return paths;
}

/** SHA-256 (hex, 16 digits) of every file in a folder, by relative path. */
async function sourceHash(dir: string): Promise<string> {
  const files: string[] = [];
  const walk = (at: string, prefix: string) => {
    for (const entry of [...Deno.readDirSync(at)].sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.isDirectory) walk(join(at, entry.name), `${prefix}${entry.name}/`);
      else if (entry.isFile) files.push(`${prefix}${entry.name}`);
    }
  };
  walk(dir, "");
  const parts: Uint8Array[] = [];
  for (const file of files) {
    parts.push(
      new TextEncoder().encode(`${file}\0`),
      await Deno.readFile(join(dir, file)),
      new Uint8Array([0]),
    );
  }
  const all = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    all.set(part, at);
    at += part.length;
  }
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", all))).slice(0, 16);
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}
