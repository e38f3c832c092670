/**
 * Kubernetes clients nobody on the team wrote, for end-to-end tests: kubectl (see e2e.ts),
 * a client-go program, and the Python `kubernetes` package. Each is built or installed on
 * first use into the cache, and fails with what to install when its toolchain is missing.
 */
import { join } from "node:path";
import { waitFor } from "../../src/common/mod.ts";

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

/** A client program running in the background, its stdout and stderr collected as they come. */
export interface RunningClient {
  /** Everything it printed so far (stdout and stderr, interleaved as they arrived). */
  output(): string;
  /** Waits until its output satisfies `test`; fails with the output after the deadline. */
  waitFor(
    test: (output: string) => boolean,
    description: string,
    timeoutMs?: number,
  ): Promise<void>;
  /** Stops it (closes its stdin, or signals it) and waits for it to exit. */
  stop(): Promise<Deno.CommandStatus>;
}

/**
 * Starts a client program; `env` adds to the environment (feature gates, say). The programs in
 * tests/clients stop when their stdin closes; others (kubectl) are stopped with SIGTERM.
 */
export function startClient(
  command: string,
  args: string[],
  options: { env?: Record<string, string>; stopWith?: "stdin" | "signal" } = {},
): RunningClient {
  const child = new Deno.Command(command, {
    args,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    ...(options.env ? { env: options.env } : {}),
  }).spawn();
  let output = "";
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) output += text;
  };
  const reading = Promise.all([collect(child.stdout), collect(child.stderr)]);
  const status = child.status;
  return {
    output: () => output,
    async waitFor(test, description, timeoutMs = 60_000) {
      let exited = false;
      status.then(() => exited = true);
      await waitFor(() => {
        if (test(output)) return true;
        if (exited) throw new Error("the client exited");
        return false;
      }, { description, timeoutMs, intervalMs: 50 }).catch((error) => {
        throw new Error(`${error.message}; its output ends with:\n${output.slice(-3000)}`);
      });
    },
    async stop() {
      await child.stdin.close().catch(() => {});
      if (options.stopWith === "signal") {
        try {
          child.kill("SIGTERM");
        } catch { /* already exited */ }
      }
      const result = await status;
      await reading;
      return result;
    },
  };
}
