/** `mca inject`: adds the sidecar to manifests from files or stdin, writes them to stdout. */
import { injectManifests, type InjectOptions, type ManifestResult } from "../inject/mod.ts";
import { UsageError } from "./run_program.ts";

/** Flags of `mca inject`. */
export interface InjectCommandOptions extends InjectOptions {
  filename?: string[];
  quiet?: boolean;
}

/** Where the command reads and writes; the real process by default. */
export interface InjectIo {
  readFile(path: string): Promise<string>;
  readStdin(): Promise<string>;
  /** True when stdin is a terminal (nobody piped anything in). */
  stdinIsTerminal(): boolean;
  stdout(text: string): void;
  stderr(text: string): void;
}

/**
 * Reads every input first, so that a malformed one leaves stdout empty; then writes all output.
 * Without files it reads stdin when something is piped in (`cat pod.yaml | mca inject`).
 */
export async function injectCommand(
  files: string[],
  options: InjectCommandOptions,
  io: InjectIo,
): Promise<void> {
  const named = [...(options.filename ?? []), ...files];
  const inputs = named.length === 0 && !io.stdinIsTerminal() ? ["-"] : named;
  if (inputs.length === 0) {
    throw new UsageError(
      `No input: pass files with -f (or "-" for stdin), e.g. "mca inject -f deploy.yaml"`,
    );
  }
  const results: { source: string; result: ManifestResult }[] = [];
  for (const input of inputs) {
    const source = input === "-" ? "<stdin>" : input;
    let text: string;
    try {
      text = input === "-" ? await io.readStdin() : await io.readFile(input);
    } catch (error) {
      throw new Error(`Cannot read "${source}": ${(error as Error).message}`);
    }
    results.push({ source, result: injectManifests(text, options, source) });
  }
  io.stdout(results.map(({ result }) => result.output).map(endWithNewline).join("---\n"));
  if (options.quiet) return;
  for (const { source, result } of results) {
    for (const report of result.reports) {
      const object = `${report.kind.toLowerCase()}/${report.name}${
        report.namespace ? ` -n ${report.namespace}` : ""
      }`;
      const where = `${source}, document ${report.document}${
        report.path ? `, ${report.path}` : ""
      }`;
      io.stderr(
        report.outcome === "skipped"
          ? `skipped  ${object} (${where}): ${report.message}\n`
          : `${report.outcome.padEnd(8)} ${object} (${where})\n`,
      );
    }
  }
}

function endWithNewline(text: string): string {
  return text === "" || text.endsWith("\n") ? text : text + "\n";
}

/** The real process's files and streams. */
export function processInjectIo(
  write: { stdout(text: string): void; stderr(text: string): void },
): InjectIo {
  return {
    readFile: (path) => Deno.readTextFile(path),
    readStdin: async () => await new Response(Deno.stdin.readable).text(),
    stdinIsTerminal: () => Deno.stdin.isTerminal(),
    ...write,
  };
}
