/** One-shot `mca` commands for the demo, and waiting for an HTTPS endpoint of a started mode. */
import { type ManagedProcess, waitFor } from "../../src/testenv/mod.ts";
import { mcaCommand } from "../../tests/_utils/mca_process.ts";

/** Runs a one-shot `mca` command; each stderr line goes to `progress`; throws on failure. */
export async function runMca(args: string[], progress: (line: string) => void): Promise<string> {
  const [command, ...rest] = mcaCommand();
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
  process: ManagedProcess,
) {
  const client = Deno.createHttpClient({ caCerts: [caPem] });
  try {
    await waitFor(async () => {
      const response = await fetch(url, { client });
      await response.body?.cancel();
      return response.ok;
    }, { timeoutMs: 60_000, description: what });
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${await process.tail(20)}`);
  } finally {
    client.close();
  }
}
