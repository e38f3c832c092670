/**
 * `mca completion`: the scripts are loaded into real bash, zsh and fish (installed by the
 * README's test command) and asked to complete command lines, one case table for all three.
 */
import { assert, assertEquals, assertStringIncludes } from "../_utils/assert.ts";
import { runCommand } from "../_utils/run_command.ts";
import { tempDir } from "../_utils/temp_dir.ts";
import { buildProgram } from "../../main.ts";
import { commandSpec, completionScript, runProgram } from "../../src/cli/mod.ts";

/** A command line typed so far (the last word is being completed), what must and must not be offered. */
const CASES: { line: string; offers: string[]; never?: string[] }[] = [
  { line: "mca ", offers: ["inject", "webhook", "proxy", "hub", "agent", "completion"] },
  { line: "mca ag", offers: ["agent"], never: ["inject"] },
  { line: "mca agent ", offers: ["install", "manifest"], never: ["inject"] },
  {
    line: "mca agent install --",
    offers: ["--hub-namespace", "--member-context"],
    never: ["--failure-policy"],
  },
  { line: "mca version -o ", offers: ["text", "json"], never: ["inject"] },
  { line: "mca inject --image-pull-policy N", offers: ["Never"], never: ["IfNotPresent"] },
  { line: "mca webhook --failure-policy ", offers: ["Fail", "Ignore"] },
  // A flag's value is not taken for a subcommand: these are proxy's flags, not explain's.
  {
    line: "mca proxy --config explain --con",
    offers: ["--config", "--contexts"],
    never: ["--content-type"],
  },
  { line: "mca proxy explain --con", offers: ["--config", "--contexts", "--content-type"] },
  { line: "mca completion ", offers: [], never: ["inject"] },
];

async function script(shell: "bash" | "zsh" | "fish"): Promise<string> {
  let out = "";
  const io = { stdout: (t: string) => out += t, stderr: () => {} };
  assertEquals(await runProgram(buildProgram(io), ["completion", shell], io), 0);
  return out;
}

/** The candidates a shell offers for `line`, with the script loaded from `file`. */
async function complete(shell: "bash" | "zsh" | "fish", file: string, line: string) {
  const found = await runCommand("sh", ["-c", `command -v ${shell}`]);
  assertEquals(
    found.code,
    0,
    `${shell} is not installed: "scripts/deno task testenv:build" installs it (as root)`,
  );
  const words = line.split(" ");
  const array = words.map((w) => `'${w}'`).join(" ");
  const result = shell === "fish"
    ? await runCommand("fish", ["--no-config", "-c", `source ${file}; complete -C '${line}'`])
    : shell === "bash"
    ? await runCommand("bash", [
      "--norc",
      "-c",
      `source ${file}; COMP_WORDS=(${array}); COMP_CWORD=${
        words.length - 1
      }; _mca_bash; printf '%s\\n' "\${COMPREPLY[@]}"`,
    ])
    : await runCommand("zsh", [
      "-f",
      "-c",
      // The completer as zsh's completion system calls it, with compadd and _files answering
      // what they were given (outside a completion widget they cannot run).
      `source ${file}; compadd() { shift; printf '%s\\n' "$@"; }; _files() { :; }; ` +
      `words=(${array}); CURRENT=${words.length}; _mca_zsh`,
    ]);
  assertEquals(result.code, 0, `${shell}: ${result.stderr}`);
  assertEquals(result.stderr, "", `${shell} complained loading the script`);
  return result.stdout.split("\n").map((l) => l.split("\t")[0]!).filter(Boolean);
}

for (const shell of ["bash", "zsh", "fish"] as const) {
  Deno.test(`mca completion ${shell}: the shell completes commands, subcommands, flags and choices`, async () => {
    await using dir = await tempDir();
    const file = await dir.write(`mca.${shell}`, await script(shell));
    for (const { line, offers, never = [] } of CASES) {
      const got = await complete(shell, file, line);
      for (const word of offers) {
        assert(got.includes(word), `${shell} "${line}": no ${word} in ${got}`);
      }
      for (const word of never) assert(!got.includes(word), `${shell} "${line}": offered ${word}`);
    }
  });
}

Deno.test("mca completion names the shells it knows when given another", async () => {
  let stderr = "";
  const io = { stdout: () => {}, stderr: (t: string) => stderr += t };
  assertEquals(await runProgram(buildProgram(io), ["completion", "tcsh"], io), 2);
  assertStringIncludes(
    stderr,
    `Unknown shell "tcsh": mca completion writes scripts for bash, zsh, fish`,
  );
});

Deno.test("completionScript() quotes descriptions so that any text is safe in the script", () => {
  const root = commandSpec(buildProgram({ stdout: () => {}, stderr: () => {} }));
  root.commands[0]!.description = `it's "quoted" $(not run)`;
  const fish = completionScript("fish", root);
  assertStringIncludes(fish, `-d 'it'\\''s "quoted" $(not run)'`);
});
