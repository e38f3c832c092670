/**
 * The machine's own programs that real nodes need (containerd, runc, the CNI plugins, image
 * tools, iptables): found on the machine, or installed from the Debian archive when missing.
 */

/** One Debian package and the files that show it is installed. */
export interface HostPackage {
  name: string;
  /** Absolute paths; any one of each inner list is enough (Debian moved some to /usr/bin). */
  files: string[][];
  /** Services its installation starts that the tests run themselves: stopped and disabled. */
  services?: string[];
}

/** The Debian packages a node needs, with the programs the test environment runs from each. */
export const NODE_PACKAGES: readonly HostPackage[] = [
  { name: "containerd", files: [["/usr/bin/containerd"], ["/usr/bin/ctr"]] },
  { name: "runc", files: [["/usr/sbin/runc", "/usr/bin/runc"]] },
  {
    name: "containernetworking-plugins",
    files: [["/usr/lib/cni/bridge"], ["/usr/lib/cni/host-local"], ["/usr/lib/cni/loopback"]],
  },
  { name: "umoci", files: [["/usr/bin/umoci"]] },
  { name: "skopeo", files: [["/usr/bin/skopeo"]] },
  { name: "iptables", files: [["/usr/sbin/iptables"]] },
  { name: "conntrack", files: [["/usr/sbin/conntrack"]] },
  { name: "iproute2", files: [["/usr/sbin/ip", "/usr/bin/ip", "/bin/ip", "/sbin/ip"]] },
  { name: "util-linux", files: [["/usr/bin/nsenter"]] },
];

/** The shells whose completion scripts the tests load into them (`mca completion`). */
export const SHELL_PACKAGES: readonly HostPackage[] = [
  { name: "zsh", files: [["/usr/bin/zsh", "/bin/zsh"]] },
  { name: "fish", files: [["/usr/bin/fish"]] },
];

/** The forward proxy that agents are tested behind (HTTPS_PROXY), run by the tests on loopback. */
export const PROXY_PACKAGES: readonly HostPackage[] = [
  {
    name: "tinyproxy",
    files: [["/usr/bin/tinyproxy", "/usr/sbin/tinyproxy"]],
    services: ["tinyproxy"],
  },
];

/** The packages of `wanted` with a file missing, given a test for file existence. */
export function missingPackages(
  wanted: readonly HostPackage[],
  exists: (path: string) => boolean,
): string[] {
  return wanted.filter((pkg) => !pkg.files.every((any) => any.some(exists))).map((p) => p.name);
}

/** Options of ensureHostPackages. */
export interface EnsureHostPackagesOptions {
  /** Install what is missing (as root, with apt-get); otherwise only report it. */
  install?: boolean;
  /** Default NODE_PACKAGES. */
  packages?: readonly HostPackage[];
  onProgress?: (message: string) => void;
}

/**
 * Checks that every node package is installed and, with `install`, installs the missing ones
 * with apt-get (root only). Throws a message naming the packages when they stay missing.
 */
export async function ensureHostPackages(options: EnsureHostPackagesOptions = {}): Promise<void> {
  const progress = options.onProgress ?? (() => {});
  const packages = options.packages ?? NODE_PACKAGES;
  const missing = missingPackages(packages, fileExists);
  if (missing.length === 0) return;
  const command = `apt-get install -y ${missing.join(" ")}`;
  if (!options.install) {
    throw new Error(
      `Real nodes need the Debian packages ${quoteList(missing)}, which are not installed. ` +
        `Install them as root ("apt-get update && ${command}"), or run "scripts/deno task testenv:build" as root`,
    );
  }
  if (Deno.uid() !== 0) {
    throw new Error(
      `Real nodes need the Debian packages ${
        quoteList(missing)
      }, and installing them needs root: ` +
        `run "sudo apt-get update && sudo ${command}", then try again`,
    );
  }
  if (!fileExists("/usr/bin/apt-get")) {
    throw new Error(
      `Real nodes need ${
        quoteList(missing)
      } (Debian package names), and this machine has no apt-get: ` +
        `install their equivalents with its package manager`,
    );
  }
  const started = Date.now();
  progress(`Installing the Debian packages real nodes need: ${missing.join(", ")}...`);
  await aptGet(["update", "-qq"]);
  await aptGet(["install", "-y", "-qq", "--no-install-recommends", ...missing]);
  await stopServices(packages.filter((pkg) => missing.includes(pkg.name)));
  const still = missingPackages(packages, fileExists);
  if (still.length > 0) {
    throw new Error(`apt-get installed the packages, but ${quoteList(still)} are still missing`);
  }
  progress(`Installed ${missing.join(", ")} in ${Math.round((Date.now() - started) / 1000)} s`);
}

async function aptGet(args: string[]): Promise<void> {
  const result = await new Deno.Command("apt-get", {
    args,
    env: { DEBIAN_FRONTEND: "noninteractive" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!result.success) {
    const text = new TextDecoder().decode(result.stderr).trim().split("\n").slice(-15).join("\n");
    throw new Error(`"apt-get ${args.join(" ")}" failed with exit code ${result.code}:\n${text}`);
  }
}

/** Debian starts a package's daemon on install (with systemd): the tests want none running. */
async function stopServices(installed: readonly HostPackage[]): Promise<void> {
  const services = installed.flatMap((pkg) => pkg.services ?? []);
  if (services.length === 0 || !fileExists("/usr/bin/systemctl")) return;
  await new Deno.Command("systemctl", {
    args: ["disable", "--now", ...services],
    stdout: "null",
    stderr: "null",
  }).output().catch(() => {});
}

function fileExists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

function quoteList(names: string[]): string {
  return names.map((name) => `"${name}"`).join(", ");
}
