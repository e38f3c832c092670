/** Runs a commander program with mca's exit-code contract: 0 ok, 1 failure, 2 usage error. */
import { type Command, CommanderError } from "commander";

/** Exit codes of every mca command. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** An error the user caused by how the command was called; printed as one line, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Where the program writes. */
export interface ProgramIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** Parses and runs the program; returns the exit code instead of exiting, so tests can call it. */
export async function runProgram(program: Command, args: string[], io: ProgramIo): Promise<number> {
  configure(program, io);
  if (args.length === 0) {
    // Like kubectl: a bare command explains itself rather than failing.
    program.outputHelp();
    return EXIT_OK;
  }
  try {
    await program.parseAsync(args, { from: "user" });
    return EXIT_OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version displays are successes; everything else commander throws is a usage error.
      if (error.exitCode === 0) return EXIT_OK;
      io.stderr(`${oneLine(error.message.replace(/^error: /, ""))} (see "mca --help")\n`);
      return EXIT_USAGE;
    }
    if (error instanceof UsageError) {
      io.stderr(`${oneLine(error.message)}\n`);
      return EXIT_USAGE;
    }
    io.stderr(`${errorText(error)}\n`);
    return EXIT_FAILURE;
  }
}

function configure(command: Command, io: ProgramIo): void {
  command.exitOverride();
  command.configureOutput({
    writeOut: io.stdout,
    // Commander's own error text is replaced by the one-line message above.
    writeErr: (text) => {
      if (!text.startsWith("error:")) io.stderr(text);
    },
    outputError: () => {},
  });
  for (const sub of command.commands) configure(sub, io);
}

function oneLine(text: string): string {
  const line = text.split("\n").find((part) => part.trim() !== "") ?? text;
  const trimmed = line.trim();
  return trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
}

/** The message of a runtime error; several lines are allowed (an exec plugin's stderr, say). */
function errorText(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
