/**
 * A long-running kubectl (logs -f, attach, port-forward, exec -i) as a test drives it: its
 * output as it comes, input to write, and a stop.
 */
import { kubectlPath, type TestCluster } from "../../src/testenv/mod.ts";
import { waitFor } from "../../src/common/mod.ts";

/** A running kubectl. */
export interface KubectlSession extends AsyncDisposable {
  /** Standard output so far. */
  stdout(): string;
  /** Standard error so far. */
  stderr(): string;
  /** Waits until standard output matches; returns the match. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Writes to its standard input (needs `stdin: true`). */
  write(text: string): Promise<void>;
  /** Closes its standard input. */
  closeStdin(): Promise<void>;
  /** Its exit code, once it has exited. */
  exited: Promise<number>;
}

/** Starts kubectl against one cluster or a kubeconfig file. */
export async function startKubectl(
  target: TestCluster | string,
  args: string[],
  options: { stdin?: boolean } = {},
): Promise<KubectlSession> {
  const kubeconfig = typeof target === "string" ? target : target.kubeconfigPath;
  const child = new Deno.Command(await kubectlPath(), {
    args: [`--kubeconfig=${kubeconfig}`, ...args],
    stdin: options.stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let stdout = "";
  let stderr = "";
  const reading = Promise.all([
    (async () => {
      for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) stdout += chunk;
    })(),
    (async () => {
      for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) stderr += chunk;
    })(),
  ]);
  const writer = options.stdin ? child.stdin.getWriter() : undefined;
  const exited = child.status.then((status) => status.code);
  return {
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    waitFor: (pattern, timeoutMs = 30_000) =>
      waitFor(() => stdout.match(pattern) ?? false, {
        timeoutMs,
        intervalMs: 50,
        description: `${pattern} from kubectl ${args.join(" ")}`,
      }).catch((error) => {
        throw new Error(
          `${(error as Error).message}\nstdout so far:\n${stdout}\nstderr so far:\n${stderr}`,
        );
      }),
    async write(text) {
      await writer!.write(new TextEncoder().encode(text));
    },
    async closeStdin() {
      await writer?.close().catch(() => {});
    },
    async [Symbol.asyncDispose]() {
      try {
        child.kill("SIGTERM");
      } catch {
        // It has exited already.
      }
      await writer?.close().catch(() => {});
      await exited;
      await reading.catch(() => {});
    },
  };
}
