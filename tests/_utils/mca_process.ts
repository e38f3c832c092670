/** Runs `mca` from source as a real child process (guarded, so it never outlives the tests). */
import { type ManagedProcess, startManagedProcess } from "../../src/testenv/mod.ts";
import { type CommandResult, runCommand } from "./run_command.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** The command line that runs `mca` from source (what the image's entrypoint is, here). */
export function mcaCommand(): string[] {
  return [Deno.execPath(), "run", "--allow-all", "--quiet", MAIN];
}

/** Runs `mca <args>` to completion: its exit code, stdout and stderr. */
export async function runMca(args: string[]): Promise<CommandResult> {
  const [command, ...rest] = mcaCommand();
  return await runCommand(command!, [...rest, ...args]);
}

/** Starts `mca <args>` with its output in a log file under `dir`. */
export async function startMca(
  args: string[],
  options: { dir: string; name?: string; env?: Record<string, string> },
): Promise<ManagedProcess> {
  const name = options.name ?? args[0] ?? "mca";
  const [command, ...rest] = mcaCommand();
  return await startManagedProcess(name, command!, [...rest, ...args], {
    logPath: `${options.dir}/${name}-${crypto.randomUUID().slice(0, 6)}.log`,
    // Deno's own update check would dial dl.deno.land (through HTTPS_PROXY when a test sets
    // one) at times of its choosing: tests count the connections mca makes.
    env: { DENO_NO_UPDATE_CHECK: "1", ...options.env },
  });
}
