/**
 * Shell completion scripts for `mca` (pure): bash, zsh and fish, generated from the commands
 * and options main.ts declares, so that they never drift from the CLI.
 */

/** One option as completion needs it. */
export interface OptionSpec {
  /** `--name` (and `-n`). */
  long?: string;
  short?: string;
  description: string;
  /** The option takes a value. */
  takesValue: boolean;
  /** Allowed values, when the CLI restricts them. */
  choices?: string[];
}

/** One command and what follows it. */
export interface CommandSpec {
  name: string;
  description: string;
  options: OptionSpec[];
  commands: CommandSpec[];
}

/** The shells `mca completion` writes for. */
export const COMPLETION_SHELLS = ["bash", "zsh", "fish"] as const;
/** One of COMPLETION_SHELLS. */
export type CompletionShell = typeof COMPLETION_SHELLS[number];

/** The completion script for `shell`, for the program `root`. */
export function completionScript(shell: CompletionShell, root: CommandSpec): string {
  switch (shell) {
    case "bash":
      return bashScript(root);
    case "zsh":
      return zshScript(root);
    case "fish":
      return fishScript(root);
  }
}

/** Every command with its path of names below the root (the root's path is empty). */
function walk(
  command: CommandSpec,
  path: string[] = [],
): { path: string[]; command: CommandSpec }[] {
  return [
    { path, command },
    ...command.commands.flatMap((child) => walk(child, [...path, child.name])),
  ];
}

function flags(option: OptionSpec): string[] {
  return [option.long, option.short].filter((flag): flag is string => flag !== undefined);
}

/** Single-quoted for sh: safe for any text. */
function quote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** The flags whose next word is their value, not a command (for walking a command line). */
function valuedFlags(root: CommandSpec): string[] {
  return [
    ...new Set(
      walk(root).flatMap(({ command }) =>
        command.options.filter((o) => o.takesValue).flatMap(flags)
      ),
    ),
  ];
}

/**
 * The shell function bash and zsh share: it walks the words typed so far to the deepest
 * command (skipping flags and their values), then offers that command's subcommands and
 * options, or an option's choices after it; `_mca_files=1` asks the shell for file names (a free
 * value, or nothing else matches). It filters by prefix itself (no compgen -W), so that zsh runs
 * it unchanged.
 */
function sharedFunction(root: CommandSpec): string {
  const name = root.name;
  const commands = walk(root);
  const offer = (words: string[]) => `_${name}_offer ${quote(words.join(" "))}`;
  const cases = commands.map(({ path, command }) => {
    const valued = command.options.filter((o) => o.takesValue);
    const free = valued.filter((o) => !o.choices).flatMap(flags);
    const afterFlag = [
      ...valued.filter((o) => o.choices).map((option) =>
        `        ${flags(option).join("|")}) ${offer(option.choices!)}; return ;;`
      ),
      // A free value (a file, a name, a URL): file names are the useful guess.
      ...(free.length > 0 ? [`        ${free.join("|")}) _${name}_files=1; return ;;`] : []),
    ];
    const words = [...command.commands.map((c) => c.name), ...command.options.flatMap(flags)];
    return [
      `    ${quote(path.join(" "))})`,
      ...(afterFlag.length > 0 ? ['      case "$prev" in', ...afterFlag, "      esac"] : []),
      `      ${offer(words)}`,
      "      ;;",
    ].join("\n");
  });
  const descend = commands.filter(({ command }) => command.commands.length > 0).map((
    { path, command },
  ) =>
    `      ${quote(path.join(" "))}) case " ${
      command.commands.map((c) => c.name).join(" ")
    } " in *" $word "*) path="\${path:+$path }$word" ;; esac ;;`
  );
  const skipValue = valuedFlags(root).length > 0
    ? `      ${valuedFlags(root).join("|")}) skip=1; continue ;;\n`
    : "";
  return `_${name}_offer() {
  local w
  for w in $1; do
    case "$w" in "$cur"*) COMPREPLY+=("$w") ;; esac
  done
  [ \${#COMPREPLY[@]} -gt 0 ] || _${name}_files=1
}
_${name}_complete() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]}
  local path="" word i skip=0
  COMPREPLY=()
  _${name}_files=0
  for ((i = 1; i < COMP_CWORD; i++)); do
    word=\${COMP_WORDS[i]}
    if ((skip)); then skip=0; continue; fi
    case "$word" in
${skipValue}      -*) continue ;;
    esac
    case "$path" in
${descend.join("\n")}
    esac
  done
  case "$path" in
${cases.join("\n")}
  esac
}`;
}

/** bash: the shared function, file names from compgen when it asks for them. */
function bashScript(root: CommandSpec): string {
  const name = root.name;
  return `# bash completion for ${name}: source <(${name} completion bash)
${sharedFunction(root)}
_${name}_bash() {
  _${name}_complete
  if ((_${name}_files)); then
    local cur=\${COMP_WORDS[COMP_CWORD]}
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -o filenames -F _${name}_bash ${name}
`;
}

/**
 * zsh: the same function, run in sh emulation (arrays from 0, words split) from a completer that
 * hands its offers to compadd.
 */
function zshScript(root: CommandSpec): string {
  const name = root.name;
  return `#compdef ${name}
# zsh completion for ${name}: source <(${name} completion zsh)
(( $+functions[compdef] )) || { autoload -U +X compinit && compinit; }
${sharedFunction(root)}
_${name}_zsh() {
  emulate -L sh
  setopt kshglob noshglob braceexpand
  local -a COMP_WORDS COMPREPLY
  local COMP_CWORD _${name}_files
  COMP_WORDS=("\${words[@]}")
  COMP_CWORD=$((CURRENT - 1))
  _${name}_complete
  if ((_${name}_files)); then _files; else compadd -- "\${COMPREPLY[@]}"; fi
}
compdef _${name}_zsh ${name}
`;
}

/**
 * fish: a function that finds the command typed so far as the shared function does (flags and
 * their values skipped), and one `complete` line per subcommand and option conditioned on it.
 */
function fishScript(root: CommandSpec): string {
  const name = root.name;
  const commands = walk(root);
  const descend = commands.filter(({ command }) => command.commands.length > 0).map((
    { path, command },
  ) =>
    `      case ${quote(path.join(" "))}\n        contains -- $w ${
      command.commands.map((c) => c.name).join(" ")
    }; and set path (string trim -- "$path $w")`
  );
  const lines = [
    `# fish completion for ${name}: ${name} completion fish | source`,
    `function __${name}_path`,
    "  set -l words (commandline -opc)",
    "  set -e words[1]",
    '  set -l path ""',
    "  set -l skip 0",
    "  for w in $words",
    "    if test $skip = 1",
    "      set skip 0",
    "      continue",
    "    end",
    "    switch $w",
    `      case ${valuedFlags(root).join(" ")}`,
    "        set skip 1",
    "        continue",
    "      case '-*'",
    "        continue",
    "    end",
    '    switch "$path"',
    ...descend,
    "    end",
    "  end",
    '  echo "$path"',
    "end",
    `complete -c ${name} -f`,
  ];
  for (const { path, command } of commands) {
    const here = quote(`test "$(__${name}_path)" = ${quote(path.join(" "))}`);
    for (const child of command.commands) {
      lines.push(`complete -c ${name} -n ${here} -a ${child.name} -d ${quote(child.description)}`);
    }
    for (const option of command.options) {
      const names = [
        option.long ? `-l ${option.long.slice(2)}` : "",
        option.short ? `-s ${option.short.slice(1)}` : "",
      ].filter(Boolean).join(" ");
      const value = option.choices
        ? ` -x -a ${quote(option.choices.join(" "))}`
        : option.takesValue
        ? " -r -F"
        : "";
      lines.push(
        `complete -c ${name} -n ${here} ${names}${value} -d ${quote(option.description)}`,
      );
    }
  }
  return lines.join("\n") + "\n";
}
