/**
 * Building Go programs from the Go module proxy into the cache: the test control planes
 * (inside a wrapper module) and the chart tools (from their own released module).
 */
import { basename, dirname, join } from "node:path";

/** Progress callback of a build. */
export type BuildProgress = (message: string) => void;

/** One Go program to build. */
export interface GoProgram {
  /** Name in messages. */
  name: string;
  version: string;
  /**
   * Package to build. With `@<version>` it is built by `go install` from its own released
   * module (its go.mod and go.sum decide the dependencies); without, by `go build` inside
   * the module of `moduleDir`.
   */
  pkg: string;
  moduleDir?: string;
  ldflags: string;
  /** Where the binary goes. */
  output: string;
}

/**
 * Builds one program. The binary appears at `output` only when complete (renamed at the end),
 * so that an interrupted build is never mistaken for a binary.
 */
export async function buildGoProgram(
  program: GoProgram,
  options: { onProgress?: BuildProgress } = {},
): Promise<void> {
  const progress = options.onProgress ?? (() => {});
  const started = Date.now();
  const cpuBefore = childrenCpuSeconds();
  progress(
    `Building ${program.name} ${program.version} from the Go module proxy (the first build takes minutes)...`,
  );
  await Deno.mkdir(dirname(program.output), { recursive: true });
  const released = program.pkg.includes("@");
  // `go install pkg@version` cannot take -o: it writes into GOBIN, a scratch folder here.
  const scratch = `${program.output}.gobin`;
  const args = released ? ["install", "-trimpath", "-ldflags", program.ldflags, program.pkg] : [
    "build",
    "-trimpath",
    "-ldflags",
    program.ldflags,
    "-o",
    `${program.output}.tmp`,
    program.pkg,
  ];
  const result = await new Deno.Command("go", {
    args,
    ...(program.moduleDir ? { cwd: program.moduleDir } : {}),
    env: { CGO_ENABLED: "0", ...(released ? { GOBIN: scratch } : {}) },
    stdout: "inherit",
    stderr: "piped",
  }).output();
  if (!result.success) {
    await Deno.remove(scratch, { recursive: true }).catch(() => {});
    const stderr = new TextDecoder().decode(result.stderr).trim().split("\n").slice(-20).join("\n");
    throw new Error(
      `Building ${program.name} failed (go ${args[0]} exited with ${result.code}):\n${stderr}`,
    );
  }
  if (released) {
    await Deno.rename(join(scratch, commandName(program.pkg)), program.output);
    await Deno.remove(scratch, { recursive: true });
  } else {
    await Deno.rename(`${program.output}.tmp`, program.output);
  }
  const cpu = childrenCpuSeconds();
  const cpuText = cpu !== undefined && cpuBefore !== undefined
    ? `, ${Math.round(cpu - cpuBefore)} CPU-s`
    : "";
  progress(
    `Built ${program.name} in ${
      Math.round((Date.now() - started) / 1000)
    } s${cpuText}: ${program.output}`,
  );
}

/**
 * CPU seconds (user + system) of this process's finished children and theirs (/proc/self/stat
 * cutime and cstime, in clock ticks of 1/100 s on Linux), or undefined elsewhere.
 */
function childrenCpuSeconds(): number | undefined {
  try {
    const stat = Deno.readTextFileSync("/proc/self/stat");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // Fields 16 and 17 of stat(5); the slice starts at field 3.
    return (Number(fields[13]) + Number(fields[14])) / 100;
  } catch {
    return undefined;
  }
}

/** True when `go version` runs. */
export async function hasGo(): Promise<boolean> {
  try {
    const result = await new Deno.Command("go", {
      args: ["version"],
      stdout: "null",
      stderr: "null",
    }).output();
    return result.success;
  } catch {
    return false;
  }
}

/** The file name `go install` gives a package's binary: its last path element, not a /vN suffix. */
function commandName(pkg: string): string {
  const path = pkg.split("@")[0]!;
  const last = basename(path);
  return /^v\d+$/.test(last) ? basename(dirname(path)) : last;
}
