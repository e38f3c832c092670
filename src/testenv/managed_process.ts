/**
 * Child processes that never outlive the test run: each is started under a small shell guard
 * that kills it when our stdin pipe closes, which happens however this process ends (even
 * SIGKILL). Output goes to a log file for post-mortems.
 */

/** A running child with its log. */
export interface ManagedProcess {
  name: string;
  pid: number;
  logPath: string;
  /** Resolves with the exit code when the child ends. */
  exited: Promise<number>;
  /** SIGTERM, then SIGKILL after the grace period; resolves when the child is gone. */
  stop(graceMs?: number): Promise<void>;
  /** Asks the child to stop without waiting (for exit handlers); the guard finishes the job. */
  killNow(): void;
  /** The last lines of the log, for error messages. */
  tail(lines?: number): Promise<string>;
}

// Runs "$@" with stdin from /dev/null. TERM/INT are passed on and USR1 escalates to KILL; a
// watcher stops the child when the guard's stdin (our pipe) closes, e.g. because we died: TERM,
// and KILL 15 s later (a graceful stop of a hub replica takes several seconds).
// (Background jobs of a non-interactive shell read /dev/null unless told otherwise, hence fd 3.)
const GUARD = `exec 3<&0
"$@" </dev/null & child=$!
trap 'kill -TERM "$child" 2>/dev/null' TERM INT
trap 'kill -KILL "$child" 2>/dev/null' USR1
( cat <&3 >/dev/null; kill -TERM "$child" 2>/dev/null && { sleep 15; kill -KILL "$child" 2>/dev/null; } ) >/dev/null 2>&1 &
watcher=$!
while :; do wait "$child"; code=$?; kill -0 "$child" 2>/dev/null || break; done
kill "$watcher" 2>/dev/null
exit $code`;

/** Starts a guarded child process writing to logPath. */
export async function startManagedProcess(
  name: string,
  command: string,
  args: string[],
  options: { logPath: string; env?: Record<string, string>; cwd?: string },
): Promise<ManagedProcess> {
  const log = await Deno.open(options.logPath, { create: true, write: true, truncate: true });
  const child = new Deno.Command("sh", {
    args: ["-c", GUARD, name, command, ...args],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    ...(options.env ? { env: options.env } : {}),
    ...(options.cwd ? { cwd: options.cwd } : {}),
  }).spawn();
  // Direct writes: the file's WritableStream held data back until it was closed (Deno 2.9),
  // and a log must be readable while the process runs.
  const copy = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) {
      for (let written = 0; written < chunk.length;) {
        written += await log.write(chunk.subarray(written));
      }
    }
  };
  const copied = Promise.all([copy(child.stdout), copy(child.stderr)]).finally(() => log.close());
  let stdinClosed = false;
  const closeStdin = () => {
    if (stdinClosed) return;
    stdinClosed = true;
    child.stdin.close().catch(() => {});
  };
  const exited = child.status.then(async (status) => {
    // Lets the guard's watcher finish too.
    closeStdin();
    await copied.catch(() => {});
    return status.code;
  });
  return {
    name,
    pid: child.pid,
    logPath: options.logPath,
    exited,
    async stop(graceMs = 10_000) {
      closeStdin();
      try {
        child.kill("SIGTERM");
      } catch {
        // Already gone.
      }
      const timer = setTimeout(() => {
        try {
          child.kill("SIGUSR1");
        } catch {
          // Already gone.
        }
      }, graceMs);
      await exited;
      clearTimeout(timer);
    },
    killNow() {
      closeStdin();
      try {
        child.kill("SIGTERM");
      } catch {
        // Already gone.
      }
    },
    async tail(lines = 30) {
      const text = await Deno.readTextFile(options.logPath).catch(() => "");
      return text.trimEnd().split("\n").slice(-lines).join("\n");
    },
  };
}
