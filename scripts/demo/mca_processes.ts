/** The commands the demo runs on this machine, as a user would: `mca` (from source) and kubectl. */
import { kubectlPath } from "../../src/testenv/mod.ts";
import { mcaCommand } from "../../tests/_utils/mca_process.ts";

/**
 * Runs a one-shot `mca` command, passing each line it writes on stderr (its progress) to
 * `progress` as it comes; throws on failure. Returns stdout.
 */
export async function runMca(args: string[], progress: (line: string) => void): Promise<string> {
  const [command, ...rest] = mcaCommand();
  const child = new Deno.Command(command!, {
    args: [...rest, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdout = new Response(child.stdout).text();
  let pending = "";
  for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
    const lines = (pending + chunk).split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines.filter(Boolean)) progress(line);
  }
  if (pending) progress(pending);
  const status = await child.status;
  if (!status.success) throw new Error(`mca ${args.slice(0, 2).join(" ")} failed (see above)`);
  return await stdout;
}

/** Runs kubectl with a kubeconfig; throws with its stderr unless it succeeds. Returns stdout. */
export async function runKubectl(kubeconfig: string, args: string[]): Promise<string> {
  const output = await new Deno.Command(await kubectlPath(), {
    args: [`--kubeconfig=${kubeconfig}`, ...args],
    stdin: "null",
  }).output();
  const decoder = new TextDecoder();
  if (!output.success) {
    throw new Error(
      `kubectl ${args.join(" ")} failed: ${decoder.decode(output.stderr).trim()}`,
    );
  }
  return decoder.decode(output.stdout);
}
