/** Running the machine's tools (ip, iptables, ctr, umoci...) from the test environment. */
import { textOutput } from "../command_output.ts";

/** Exit code and output of a finished command. */
export interface HostCommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; never throws on a non-zero exit. */
export async function runHost(
  command: string,
  args: string[],
  options: { stdin?: string; cwd?: string; env?: Record<string, string> } = {},
): Promise<HostCommandResult> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(command, {
      args,
      stdin: options.stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
      ...(options.cwd ? { cwd: options.cwd } : {}),
      ...(options.env ? { env: options.env } : {}),
    }).spawn();
  } catch (error) {
    return {
      code: 127,
      stdout: "",
      stderr: `cannot run "${command}": ${(error as Error).message}`,
    };
  }
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  return textOutput(await child.output());
}

/** Runs a command and returns its stdout, or throws with the command line and its stderr. */
export async function runHostOk(
  command: string,
  args: string[],
  options: { stdin?: string; cwd?: string; env?: Record<string, string> } = {},
): Promise<string> {
  const result = await runHost(command, args, options);
  if (result.code !== 0) {
    const detail = (result.stderr || result.stdout).trim().split("\n").slice(-10).join("\n");
    throw new Error(
      `"${[command, ...args].join(" ")}" failed with exit code ${result.code}: ${detail}`,
    );
  }
  return result.stdout;
}

/** runHost without awaiting: for exit paths (unload handlers cannot wait for promises). */
export function runHostSync(command: string, args: string[]): HostCommandResult {
  try {
    const output = new Deno.Command(command, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    })
      .outputSync();
    const decoder = new TextDecoder();
    return {
      code: output.code,
      stdout: decoder.decode(output.stdout),
      stderr: decoder.decode(output.stderr),
    };
  } catch (error) {
    return {
      code: 127,
      stdout: "",
      stderr: `cannot run "${command}": ${(error as Error).message}`,
    };
  }
}

/** runHostSync that throws with the command line and its stderr on failure. */
export function runHostSyncOk(command: string, args: string[]): string {
  const result = runHostSync(command, args);
  if (result.code !== 0) {
    const detail = (result.stderr || result.stdout).trim().split("\n").slice(-10).join("\n");
    throw new Error(
      `"${[command, ...args].join(" ")}" failed with exit code ${result.code}: ${detail}`,
    );
  }
  return result.stdout;
}
