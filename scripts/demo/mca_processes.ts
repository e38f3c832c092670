/** Running `mca` from this checkout for the demo: long-running modes and one-shot commands. */
import { type ManagedProcess, startManagedProcess, waitFor } from "../../src/testenv/mod.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** The command line that runs `mca` from source (the image's entrypoint, here). */
export function mcaEntrypoint(): string[] {
  return [Deno.execPath(), "run", "--allow-all", "--quiet", MAIN];
}

/** Starts a long-running mode with its output in `<dir>/<name>.log`. */
export async function startMcaProcess(
  name: string,
  args: string[],
  dir: string,
): Promise<ManagedProcess> {
  const [command, ...rest] = mcaEntrypoint();
  return await startManagedProcess(name, command!, [...rest, ...args], {
    logPath: `${dir}/${name}.log`,
  });
}

/** Runs a one-shot `mca` command; each stderr line goes to `progress`; throws on failure. */
export async function runMca(args: string[], progress: (line: string) => void): Promise<string> {
  const [command, ...rest] = mcaEntrypoint();
  const output = await new Deno.Command(command!, { args: [...rest, ...args] }).output();
  const stderr = new TextDecoder().decode(output.stderr).trimEnd();
  for (const line of stderr.split("\n").filter(Boolean)) progress(line);
  if (!output.success) throw new Error(`mca ${args[0]} ${args[1] ?? ""} failed (see above)`);
  return new TextDecoder().decode(output.stdout);
}

/** Waits until an HTTPS endpoint served with `caPem` answers 2xx. */
export async function waitForHttps(
  url: string,
  caPem: string,
  what: string,
  process?: ManagedProcess,
) {
  const client = Deno.createHttpClient({ caCerts: [caPem] });
  try {
    await waitFor(async () => {
      const response = await fetch(url, { client });
      await response.body?.cancel();
      return response.ok;
    }, { timeoutMs: 60_000, description: what });
  } catch (error) {
    throw new Error(`${(error as Error).message}${process ? `\n${await process.tail(20)}` : ""}`);
  } finally {
    client.close();
  }
}
