/** The `mca` command: declares the modes and dispatches to src/. */
import { Command, Option } from "commander";
import { EXIT_OK, type ProgramIo, runProgram, versionCommand } from "./src/cli/mod.ts";
import { MCA_VERSION } from "./src/version.ts";

/** Declares every command; actions only call into src/. */
export function buildProgram(io: ProgramIo): Command {
  const program = new Command("mca")
    .description(
      "Multi-Cluster Adapter for Kubernetes: runs single-cluster apps across clusters, and lets a " +
        "host cluster reach member clusters that cannot be dialled into.",
    )
    .version(MCA_VERSION, "-V, --version", "print the version number")
    .showSuggestionAfterError(true)
    .allowExcessArguments(false);

  program
    .command("version")
    .description("print the mca version, the Deno runtime and the platform")
    .addOption(
      new Option("-o, --output <format>", "output format").choices(["text", "json"]).default(
        "text",
      ),
    )
    .allowExcessArguments(false)
    .action((options) => versionCommand(options, io.stdout));

  return program;
}

if (import.meta.main) {
  const encoder = new TextEncoder();
  const io: ProgramIo = {
    stdout: (text) => Deno.stdout.writeSync(encoder.encode(text)),
    stderr: (text) => Deno.stderr.writeSync(encoder.encode(text)),
  };
  const code = await runProgram(buildProgram(io), Deno.args, io);
  if (code !== EXIT_OK) Deno.exit(code);
}
