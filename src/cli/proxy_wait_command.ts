/** `mca proxy wait` through the full command line (the hook's own path is proxy_wait_hook.ts). */
import { proxyWait, type ProxyWaitOptions, proxyWaitUsageError } from "./proxy_wait_hook.ts";
import { UsageError } from "./run_program.ts";

/** Returns once the proxy is ready; fails with the last answer after the timeout. */
export async function proxyWaitCommand(options: ProxyWaitOptions): Promise<void> {
  const usage = proxyWaitUsageError(options);
  if (usage) throw new UsageError(usage);
  const failure = await proxyWait(options);
  if (failure) throw new Error(failure);
}
