/**
 * `mca proxy wait` as the injected sidecar's postStart hook calls it, answered before the
 * command line library and Node's compatibility layer load: the hook runs beside every
 * starting proxy, and loading them took it several times as long as a bare Deno process
 * (docs/benchmarks.md). Nothing here may import a `node:` module.
 */
import { waitReady } from "../proxy/wait_ready.ts";
import { parseDuration } from "../common/duration.ts";

/** The flags of `mca proxy wait`. */
export interface ProxyWaitOptions {
  healthUrl: string;
  timeout: string;
}

/** The defaults, shared with the command's declaration in main.ts. */
export const PROXY_WAIT_DEFAULTS: ProxyWaitOptions = {
  healthUrl: "http://127.0.0.1:16443/readyz",
  timeout: "2m",
};

/**
 * The options when `args` are exactly `proxy wait` with `--health-url=…` and `--timeout=…` in
 * that form (as the injection writes them); undefined for anything else, which the full
 * command line handles (help, errors, other spellings).
 */
export function proxyWaitHookArgs(args: string[]): ProxyWaitOptions | undefined {
  const [command, subcommand, ...flags] = args;
  if (command !== "proxy" || subcommand !== "wait") return undefined;
  const options = { ...PROXY_WAIT_DEFAULTS };
  for (const flag of flags) {
    const match = /^--(health-url|timeout)=(.+)$/.exec(flag);
    if (!match) return undefined;
    if (match[1] === "health-url") options.healthUrl = match[2]!;
    else options.timeout = match[2]!;
  }
  return options;
}

/** Checks the options; the message of the first bad one, or undefined. */
export function proxyWaitUsageError(options: ProxyWaitOptions): string | undefined {
  try {
    parseDuration(options.timeout, "--timeout");
  } catch (error) {
    return (error as Error).message;
  }
  if (!/^https?:\/\//.test(options.healthUrl)) {
    return `Invalid --health-url "${options.healthUrl}": use an http:// URL`;
  }
  return undefined;
}

/** Waits; undefined once ready, else the failure's message. */
export async function proxyWait(options: ProxyWaitOptions): Promise<string | undefined> {
  const timeoutMs = parseDuration(options.timeout, "--timeout");
  const result = await waitReady(options.healthUrl, { timeoutMs, intervalMs: 20 });
  return result.ready
    ? undefined
    : `The proxy at "${options.healthUrl}" was not ready within ${options.timeout}: ${result.last}`;
}

/** The hook's whole run: the exit code (0 ready, 1 not ready, 2 bad flags), errors on stderr. */
export async function runProxyWaitHook(
  options: ProxyWaitOptions,
  stderr: (text: string) => void,
): Promise<number> {
  const usage = proxyWaitUsageError(options);
  if (usage) {
    stderr(`${usage}\n`);
    return 2;
  }
  const failure = await proxyWait(options);
  if (failure) stderr(`${failure}\n`);
  return failure ? 1 : 0;
}
