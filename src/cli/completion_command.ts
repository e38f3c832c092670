/** `mca completion <shell>`: prints the completion script, built from the declared commands. */
import type { Command } from "commander";
import {
  type CommandSpec,
  COMPLETION_SHELLS,
  completionScript,
  type CompletionShell,
} from "./completion.ts";
import { UsageError } from "./run_program.ts";

/** Prints the script for `shell`; an unknown shell is a usage error naming the known ones. */
export function completionCommand(
  shell: string,
  program: Command,
  write: (text: string) => void,
): void {
  if (!(COMPLETION_SHELLS as readonly string[]).includes(shell)) {
    throw new UsageError(
      `Unknown shell "${shell}": mca completion writes scripts for ${COMPLETION_SHELLS.join(", ")}`,
    );
  }
  write(completionScript(shell as CompletionShell, commandSpec(program)));
}

/** What completion needs of a commander command, and of its subcommands. */
export function commandSpec(command: Command): CommandSpec {
  const options = command.options.map((option) => ({
    ...(option.long ? { long: option.long } : {}),
    ...(option.short ? { short: option.short } : {}),
    description: option.description,
    takesValue: option.required || option.optional,
    ...(option.argChoices ? { choices: [...option.argChoices] } : {}),
  }));
  return {
    name: command.name(),
    description: command.description(),
    // Commander answers --help without declaring it as an option.
    options: [...options, {
      long: "--help",
      short: "-h",
      description: "display help",
      takesValue: false,
    }],
    commands: command.commands.map(commandSpec),
  };
}
