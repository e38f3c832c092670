/**
 * `mca proxy wait`: the sidecar's postStart hook. Its own module, away from the proxy's, so
 * that the hook's process loads little while the proxy next to it starts.
 */
import { waitReady } from "../proxy/wait_ready.ts";
import { parseDuration } from "./duration.ts";
import { UsageError } from "./run_program.ts";

/** Options of `mca proxy wait`. */
export interface ProxyWaitOptions {
  healthUrl: string;
  timeout: string;
}

/** Returns once the proxy is ready; fails with the last answer after the timeout. */
export async function proxyWaitCommand(options: ProxyWaitOptions): Promise<void> {
  let timeoutMs: number;
  try {
    timeoutMs = parseDuration(options.timeout, "--timeout");
    if (!/^https?:\/\//.test(options.healthUrl)) {
      throw new Error(`Invalid --health-url "${options.healthUrl}": use an http:// URL`);
    }
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const result = await waitReady(options.healthUrl, { timeoutMs, intervalMs: 20 });
  if (!result.ready) {
    throw new Error(
      `The proxy at "${options.healthUrl}" was not ready within ${options.timeout}: ${result.last}`,
    );
  }
}
