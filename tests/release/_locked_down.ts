/**
 * Running an executable the way the image runs it in a pod: as uid/gid 65532, with nothing it
 * may write (readOnlyRootFilesystem) and a bare environment.
 *
 * The working directory, HOME and TMPDIR are one folder the process cannot write to, and
 * DENO_DIR / XDG_CACHE_HOME are unset, so any cache Deno would create (module cache, V8 code
 * cache, npm analysis cache) has nowhere to go. Root ignores file modes, so a root caller drops
 * to uid 65532 with setpriv; anyone else is already bound by the folder's mode 0555.
 */

/** The image's user (distroless ":nonroot"). */
export const NONROOT_UID = 65532;

/** Where and as whom a locked-down process runs. */
export interface LockedDownOptions {
  /** Working directory, HOME and TMPDIR; read-only for the process. */
  readOnlyDir: string;
  /** Switch to NONROOT_UID first (needed when the caller is root). */
  dropToNonRoot: boolean;
}

/** The argv (for `env`) that runs `executable args` locked down. */
export function lockedDownArgv(
  executable: string,
  args: string[],
  options: LockedDownOptions,
): string[] {
  const dropPrivileges = options.dropToNonRoot
    ? [
      "setpriv",
      `--reuid=${NONROOT_UID}`,
      `--regid=${NONROOT_UID}`,
      "--clear-groups",
      "--",
    ]
    : [];
  return [
    "-i",
    "PATH=/usr/local/bin:/usr/bin:/bin",
    `HOME=${options.readOnlyDir}`,
    `TMPDIR=${options.readOnlyDir}`,
    ...dropPrivileges,
    executable,
    ...args,
  ];
}

/** What a finished process said. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `executable args` locked down, in options.readOnlyDir, and collects its output. */
export async function runLockedDown(
  executable: string,
  args: string[],
  options: LockedDownOptions,
): Promise<RunResult> {
  return await collect(
    new Deno.Command("env", {
      args: lockedDownArgv(executable, args, options),
      cwd: options.readOnlyDir,
      stdin: "null",
    }),
  );
}

/** Runs a command and decodes its output. */
export async function collect(command: Deno.Command): Promise<RunResult> {
  const output = await command.output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** Whether this process runs as root (then modes do not stop writes and privileges are dropped). */
export function runningAsRoot(): boolean {
  return Deno.uid() === 0;
}
