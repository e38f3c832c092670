/**
 * Kubernetes clients nobody on the team wrote, for end-to-end tests: kubectl (see e2e.ts),
 * a client-go program, and the Python `kubernetes` package. Each is built or installed on
 * first use into the cache, and fails with what to install when its toolchain is missing.
 */
import { join } from "node:path";

const CLIENTS = new URL("../clients/", import.meta.url).pathname;

function cacheDir(): string {
  const cache = Deno.env.get("XDG_CACHE_HOME") || join(Deno.env.get("HOME") ?? "/tmp", ".cache");
  return join(cache, "mca", "clients");
}

async function run(
  command: string,
  args: string[],
  options: { cwd?: string; what: string },
): Promise<void> {
  let output: Deno.CommandOutput;
  try {
    const cwd = options.cwd ? { cwd: options.cwd } : {};
    output = await new Deno.Command(command, { args, ...cwd, stdout: "piped", stderr: "piped" })
      .output();
  } catch (error) {
    throw new Error(
      `${options.what} needs "${command}", which could not be run: ${(error as Error).message}`,
    );
  }
  if (!output.success) {
    throw new Error(
      `${options.what} failed:\n${
        new TextDecoder().decode(output.stderr).trim().split("\n").slice(-15).join("\n")
      }`,
    );
  }
}

let clientGo: Promise<string> | undefined;

/** The client-go test program (built with the Go toolchain; Go caches the build). */
export function clientGoBinary(): Promise<string> {
  return clientGo ??= (async () => {
    const binary = join(cacheDir(), "clientgo");
    await Deno.mkdir(cacheDir(), { recursive: true });
    await run("go", ["build", "-o", binary, "."], {
      cwd: join(CLIENTS, "go"),
      what: "Building the client-go test program (Go 1.24+)",
    });
    return binary;
  })();
}

let python: Promise<string> | undefined;

/** A Python with the pinned `kubernetes` package, in a virtual environment in the cache. */
export function pythonWithKubernetes(): Promise<string> {
  return python ??= (async () => {
    const venv = join(cacheDir(), "python-venv");
    const interpreter = join(venv, "bin", "python");
    const requirements = join(CLIENTS, "python", "requirements.txt");
    const marker = join(venv, "requirements.txt");
    const wanted = await Deno.readTextFile(requirements);
    if ((await Deno.readTextFile(marker).catch(() => "")) !== wanted) {
      await run("python3", ["-m", "venv", venv], {
        what: "Creating a Python virtual environment (python3 with venv)",
      });
      await run(interpreter, ["-m", "pip", "install", "--quiet", "-r", requirements], {
        what: "Installing the Python kubernetes client from PyPI",
      });
      await Deno.writeTextFile(marker, wanted);
    }
    return interpreter;
  })();
}

/** The Python client script. */
export const PYTHON_CLIENT = join(CLIENTS, "python", "client.py");

/** Runs a client and returns its stdout; fails with its stderr. */
export async function runClient(command: string, args: string[]): Promise<string> {
  const output = await new Deno.Command(command, { args, stdout: "piped", stderr: "piped" })
    .output();
  const decoder = new TextDecoder();
  if (!output.success) {
    throw new Error(`${command} ${args.join(" ")} failed: ${decoder.decode(output.stderr)}`);
  }
  return decoder.decode(output.stdout);
}

let yamuxGo: Promise<string> | undefined;

/** A peer on github.com/hashicorp/yamux (tests/clients/yamux-go), for wire-compatibility tests. */
export function yamuxGoBinary(): Promise<string> {
  return yamuxGo ??= (async () => {
    const binary = join(cacheDir(), "yamux-go");
    await Deno.mkdir(cacheDir(), { recursive: true });
    await run("go", ["build", "-o", binary, "."], {
      cwd: join(CLIENTS, "yamux-go"),
      what: "Building the hashicorp/yamux test peer (Go 1.24+)",
    });
    return binary;
  })();
}
