/**
 * `mca <command> --help` and docs/configuration.md list the same commands and the same long
 * flags, so that neither can drift from the other. The helps come from real `mca` processes, run
 * in parallel; the commands are discovered from the helps themselves, so a new command is checked
 * (and must be documented) without touching this test.
 */
import { assert, assertEquals } from "../_utils/assert.ts";

const ROOT = new URL("../../", import.meta.url);
const DENO = new URL("scripts/deno", ROOT).pathname;
const MAIN = new URL("main.ts", ROOT).pathname;
const CONFIGURATION_DOC = new URL("docs/configuration.md", ROOT);

/** The help text of `mca <command...>`, from a real process. */
async function helpOf(command: string[]): Promise<string> {
  const output = await new Deno.Command(DENO, {
    args: ["run", "--allow-all", "--quiet", MAIN, ...command, "--help"],
    cwd: ROOT.pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout);
  if (!output.success) {
    throw new Error(
      `"mca ${command.join(" ")} --help" failed: ${new TextDecoder().decode(output.stderr)}`,
    );
  }
  return text;
}

/** The lines of a help block ("Options:", "Commands:") up to the next blank line. */
function helpBlock(help: string, title: string): string[] {
  const lines = help.split("\n");
  const start = lines.indexOf(title);
  if (start < 0) return [];
  const end = lines.findIndex((line, index) => index > start && line.trim() === "");
  return lines.slice(start + 1, end < 0 ? undefined : end);
}

/** Long flags of a help's Options block, without --help (every command has it). */
export function helpFlags(help: string): string[] {
  return helpBlock(help, "Options:")
    // An option starts at column 2; wrapped descriptions are indented further.
    .map((line) => /^ {2}(?:-[A-Za-z], )?(--[a-z][a-z0-9-]*)/.exec(line)?.[1])
    .filter((flag): flag is string => flag !== undefined && flag !== "--help")
    .sort();
}

/** Subcommand names of a help's Commands block, without commander's own "help". */
export function helpSubcommands(help: string): string[] {
  return helpBlock(help, "Commands:")
    .map((line) => /^ {2}([a-z][a-z-]*)/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined && name !== "help");
}

/**
 * The long flags each command section of the doc lists: sections are headed "### `mca …`" and
 * their flags are the first cells of their tables.
 */
export function documentedFlags(markdown: string): Map<string, string[]> {
  const sections = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of markdown.split("\n")) {
    if (/^#{1,6} /.test(line)) {
      const command = /^### `(mca(?: [a-z][a-z-]*)*)`\s*$/.exec(line)?.[1];
      current = command === undefined ? undefined : [];
      if (command !== undefined && current) sections.set(command, current);
      continue;
    }
    if (!current || !line.startsWith("|")) continue;
    const firstCell = line.split("|")[1] ?? "";
    for (const match of firstCell.matchAll(/--[a-z][a-z0-9-]*/g)) current.push(match[0]);
  }
  for (const flags of sections.values()) flags.sort();
  return sections;
}

/** Every command and its help, found breadth-first from `mca --help`; each level in parallel. */
async function allHelps(): Promise<Map<string, string>> {
  const helps = new Map<string, string>();
  let level: string[][] = [[]];
  while (level.length > 0) {
    const texts = await Promise.all(level.map(helpOf));
    const next: string[][] = [];
    level.forEach((command, index) => {
      helps.set(["mca", ...command].join(" "), texts[index]!);
      for (const sub of helpSubcommands(texts[index]!)) next.push([...command, sub]);
    });
    level = next;
  }
  return helps;
}

Deno.test("helpFlags() reads long flags of the Options block only, not wrapped descriptions", () => {
  const help = [
    "Usage: mca agent install [options]",
    "",
    "Options:",
    "  --hub <url>                 the hub",
    "  -o, --output <file>         write to this file (default:",
    "                              --kubeconfig)",
    "  -h, --help                  display help for command",
    "",
    "Examples:",
    "  --not-a-flag",
  ].join("\n");
  assertEquals(helpFlags(help), ["--hub", "--output"]);
});

Deno.test("documentedFlags() takes the first table cell of each `mca …` section only", () => {
  const markdown = [
    "### `mca proxy`",
    "| flag | default | what |",
    "| --- | --- | --- |",
    "| `--listen <host:port>` | x | unlike `--other` |",
    "Text mentioning `--prose`.",
    "### `mca proxy explain`",
    "| `-f, --filename <file>` | — | body |",
    "### Other heading",
    "| `--ignored` | | |",
  ].join("\n");
  assertEquals(
    documentedFlags(markdown),
    new Map([["mca proxy", ["--listen"]], ["mca proxy explain", ["--filename"]]]),
  );
});

Deno.test("every command's --help and docs/configuration.md list the same long flags", async () => {
  const [helps, markdown] = await Promise.all([
    allHelps(),
    Deno.readTextFile(CONFIGURATION_DOC),
  ]);
  const documented = documentedFlags(markdown);
  // The discovery itself must have worked: the root, its modes and their subcommands.
  for (
    const command of [
      "mca",
      "mca proxy explain",
      "mca agent install",
      "mca agent uninstall",
      "mca agent manifest",
    ]
  ) {
    assert(helps.has(command), `"${command} --help" was not found from "mca --help"`);
  }
  assertEquals(
    [...documented.keys()].sort(),
    [...helps.keys()].sort(),
    'docs/configuration.md needs one "### `mca …`" section per command',
  );
  const drift: string[] = [];
  for (const [command, help] of helps) {
    const inHelp = helpFlags(help);
    const inDoc = documented.get(command) ?? [];
    assert(
      helpBlock(help, "Options:").some((line) => line.includes("--help")),
      `"${command} --help" shows no Options block with --help: the help format changed?`,
    );
    for (const flag of inHelp.filter((f) => !inDoc.includes(f))) {
      drift.push(`${command} ${flag}: in --help, missing from docs/configuration.md`);
    }
    for (const flag of inDoc.filter((f) => !inHelp.includes(f))) {
      drift.push(`${command} ${flag}: in docs/configuration.md, not in --help`);
    }
  }
  assertEquals(drift, []);
});
