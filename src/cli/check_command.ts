/** `mca check`: runs the checks, prints the report, fails when any check failed. */
import {
  type CheckOptions,
  renderJson,
  renderText,
  reportSymbols,
  resolveCheckOptions,
  runCheck,
  summarize,
} from "../check/mod.ts";
import { UsageError } from "./run_program.ts";

/** Prints the report on stdout; a failed check makes the exit code 1. */
export async function checkCommand(
  options: CheckOptions,
  io: { stdout(text: string): void },
): Promise<void> {
  let resolved;
  try {
    resolved = resolveCheckOptions(options);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { results } = await runCheck(resolved);
  io.stdout(
    resolved.output === "json"
      ? renderJson(results)
      : renderText(results, reportSymbols(Deno.stdout.isTerminal(), Deno.env.get)),
  );
  const { fail } = summarize(results);
  if (fail > 0) throw new Error(`${fail} of ${results.length} checks failed`);
}
