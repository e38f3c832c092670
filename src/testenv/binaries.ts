/** Where the test control-plane binaries live, and how they are built from the Go module proxy. */
import { join } from "node:path";
import { buildGoProgram, type BuildProgress, hasGo } from "./go_build.ts";
import { ETCD_VERSION, KUBERNETES_VERSION } from "./versions.ts";

/** Paths of the two binaries. */
export interface TestenvBinaries {
  kubeApiServer: string;
  etcd: string;
}

/** Inputs that decide the binary folder. */
export interface BinaryDirOptions {
  env?: (name: string) => string | undefined;
}

/**
 * The folder holding `kube-apiserver` and `etcd`: `MCA_TESTENV_BIN` if set (for example the
 * folder of controller-runtime's setup-envtest), else the build cache
 * `$XDG_CACHE_HOME/mca/testenv/<k8s>-<etcd>/` (default `~/.cache`).
 */
export function testenvBinDir(options: BinaryDirOptions = {}): { dir: string; fromEnv: boolean } {
  const env = options.env ?? ((name: string) => Deno.env.get(name));
  const explicit = env("MCA_TESTENV_BIN");
  if (explicit) return { dir: explicit, fromEnv: true };
  const cache = env("XDG_CACHE_HOME") || join(env("HOME") ?? "/tmp", ".cache");
  return {
    dir: join(cache, "mca", "testenv", `${KUBERNETES_VERSION}-${ETCD_VERSION}`),
    fromEnv: false,
  };
}

/** Finds both binaries, or throws a message that says exactly how to get them. */
export async function findBinaries(options: BinaryDirOptions = {}): Promise<TestenvBinaries> {
  const { dir, fromEnv } = testenvBinDir(options);
  const binaries = { kubeApiServer: join(dir, "kube-apiserver"), etcd: join(dir, "etcd") };
  const missing: string[] = [];
  for (const path of Object.values(binaries)) {
    const info = await Deno.stat(path).catch(() => undefined);
    if (!info?.isFile) missing.push(path);
  }
  if (missing.length > 0) {
    const how = fromEnv
      ? `MCA_TESTENV_BIN="${dir}" must hold executable kube-apiserver and etcd files (for example from "setup-envtest use -p path")`
      : `Build them once with "scripts/deno task testenv:build" (needs Go 1.24+ from https://go.dev/dl and the Go module proxy; ` +
        `takes a few minutes), or point MCA_TESTENV_BIN at a folder that holds kube-apiserver and etcd`;
    throw new Error(
      `The test control plane is missing ${missing.map((m) => `"${m}"`).join(", ")}. ${how}`,
    );
  }
  return binaries;
}

/** Options of buildBinaries. */
export interface BuildOptions extends BinaryDirOptions {
  /** Folder of the Go wrapper modules; default scripts/testenv of this repository. */
  wrappersDir?: string;
  onProgress?: BuildProgress;
  /** Rebuild even when the binaries exist. */
  force?: boolean;
}

/** Builds kube-apiserver and etcd into the cache unless they are there already. */
export async function buildBinaries(options: BuildOptions = {}): Promise<TestenvBinaries> {
  const progress = options.onProgress ?? (() => {});
  const { dir, fromEnv } = testenvBinDir(options);
  if (!options.force) {
    const existing = await findBinaries(options).catch(() => undefined);
    const kubectl = await kubectlPath(options).catch(() => undefined);
    if (existing && kubectl) {
      progress(`Using the test control plane in ${dir}`);
      return existing;
    }
  }
  if (fromEnv) return await findBinaries(options);
  await requireGo();
  const wrappers = options.wrappersDir ??
    new URL("../../scripts/testenv/", import.meta.url).pathname;
  await Deno.mkdir(dir, { recursive: true });
  const versionFlags = kubernetesVersionLdflags();
  const builds = [
    {
      name: "etcd",
      version: ETCD_VERSION,
      module: "etcd",
      pkg: "go.etcd.io/etcd/server/v3",
      ldflags: "-s -w",
    },
    {
      name: "kube-apiserver",
      version: KUBERNETES_VERSION,
      module: "kube-apiserver",
      pkg: "k8s.io/kubernetes/cmd/kube-apiserver",
      ldflags: ["-s -w", ...versionFlags].join(" "),
    },
  ];
  if (!(await onPath("kubectl"))) {
    builds.push({ ...builds[1]!, name: "kubectl", pkg: "k8s.io/kubernetes/cmd/kubectl" });
  }
  for (const build of builds) {
    if (
      build.name === "kubectl" && !options.force &&
      (await Deno.stat(join(dir, "kubectl")).catch(() => null))
    ) {
      continue;
    }
    await buildGoProgram({
      name: build.name,
      version: build.version,
      pkg: build.pkg,
      moduleDir: join(wrappers, build.module),
      ldflags: build.ldflags,
      output: join(dir, build.name),
    }, { onProgress: progress });
  }
  return await findBinaries(options);
}

/** The -X flags that stamp a Kubernetes binary with its release, as its Makefile does. */
export function kubernetesVersionLdflags(): string[] {
  const minor = KUBERNETES_VERSION.split(".")[1];
  return [
    `gitVersion=${KUBERNETES_VERSION}`,
    "gitMajor=1",
    `gitMinor=${minor}`,
    "gitTreeState=clean",
    `buildDate=${new Date().toISOString().replace(/\.\d+Z$/, "Z")}`,
  ].flatMap((flag) => [
    `-X k8s.io/component-base/version.${flag}`,
    `-X k8s.io/client-go/pkg/version.${flag}`,
  ]);
}

/**
 * The kubectl the tests run: `MCA_KUBECTL`, else the one on PATH, else one built into the
 * cache by `testenv:build` (it builds kubectl only when none is on PATH).
 */
export async function kubectlPath(options: BinaryDirOptions = {}): Promise<string> {
  const env = options.env ?? ((name: string) => Deno.env.get(name));
  const explicit = env("MCA_KUBECTL");
  if (explicit) return explicit;
  if (await onPath("kubectl")) return "kubectl";
  const built = join(testenvBinDir(options).dir, "kubectl");
  if ((await Deno.stat(built).catch(() => undefined))?.isFile) return built;
  throw new Error(
    `kubectl was not found on PATH or in "${built}". Install kubectl (https://kubernetes.io/docs/tasks/tools/), ` +
      `or run "scripts/deno task testenv:build", which builds it from the Go module proxy when it is missing`,
  );
}

async function onPath(command: string): Promise<boolean> {
  try {
    const result = await new Deno.Command(command, {
      args: ["version", "--client"],
      stdout: "null",
      stderr: "null",
    })
      .output();
    return result.success;
  } catch {
    return false;
  }
}

async function requireGo(): Promise<void> {
  if (await hasGo()) return;
  throw new Error(
    "Building the test control plane needs the Go toolchain (1.24+), which was not found on PATH. " +
      "Install it from https://go.dev/dl, or set MCA_TESTENV_BIN to a folder with kube-apiserver and etcd binaries",
  );
}
