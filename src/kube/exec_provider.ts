/** Credentials from an exec plugin: run on demand, cached until expiry, re-run after a 401. */
import { textOutput } from "../command_output.ts";
import type { ExecClusterInfo } from "./client_config.ts";
import { bearer, type CredentialProvider, type Credentials } from "./credentials.ts";
import {
  execCredentialRequest,
  type ExecCredentialStatus,
  parseExecCredential,
} from "./exec_credential.ts";
import type { ExecConfig } from "./kubeconfig_types.ts";

/** Result of running a plugin process. */
export interface PluginRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** How a plugin is run. */
export interface PluginRunOptions {
  args: string[];
  env: Record<string, string>;
  interactive: boolean;
  signal: AbortSignal;
}

/** Runs a plugin; rejects with Deno.errors.NotFound when the command does not exist. */
export type RunPlugin = (command: string, options: PluginRunOptions) => Promise<PluginRun>;

/** Settings and dependencies of the exec provider. */
export interface ExecProviderOptions {
  cluster?: ExecClusterInfo;
  /** Longest a plugin may run; default 60 s. */
  timeoutMs?: number;
  /** Whether a terminal is attached for plugins that prompt; default: stdin is a terminal. */
  terminal?: boolean;
  run?: RunPlugin;
  now?: () => number;
}

/** Runs the plugin when no valid credential is cached; concurrent callers share one run. */
export function execCredentialProvider(
  exec: ExecConfig,
  options: ExecProviderOptions = {},
): CredentialProvider {
  const run = options.run ?? runPluginProcess;
  const now = options.now ?? Date.now;
  const timeoutMs = options.timeoutMs ?? 60_000;
  let cached: { credentials: Credentials; expiresAt?: Date } | undefined;
  let pending: Promise<Credentials> | undefined;

  const refresh = async (): Promise<Credentials> => {
    const status = await runExecPlugin(exec, {
      ...(options.cluster ? { cluster: options.cluster } : {}),
      terminal: options.terminal ?? Deno.stdin.isTerminal(),
      timeoutMs,
      run,
    });
    const credentials: Credentials = {
      ...(status.token ? { authorization: bearer(status.token) } : {}),
      ...(status.certPem && status.keyPem
        ? { certPem: status.certPem, keyPem: status.keyPem }
        : {}),
    };
    cached = { credentials, ...(status.expiresAt ? { expiresAt: status.expiresAt } : {}) };
    return credentials;
  };

  return {
    get(): Promise<Credentials> {
      if (cached && (!cached.expiresAt || now() < cached.expiresAt.getTime())) {
        return Promise.resolve(cached.credentials);
      }
      pending ??= refresh().finally(() => pending = undefined);
      return pending;
    },
    invalidate(refused: Credentials): void {
      const current = cached?.credentials;
      if (
        current && current.authorization === refused.authorization &&
        current.certPem === refused.certPem
      ) {
        cached = undefined;
      }
    },
  };
}

/** Runs an exec plugin once and checks its ExecCredential; errors carry its stderr and installHint. */
export async function runExecPlugin(
  exec: ExecConfig,
  options: { cluster?: ExecClusterInfo; terminal: boolean; timeoutMs: number; run: RunPlugin },
): Promise<ExecCredentialStatus> {
  const mode = exec.interactiveMode ?? "IfAvailable";
  const interactive = mode !== "Never" && options.terminal;
  const fail = (reason: string, stderr = "") => {
    const parts = [`Exec credential plugin "${exec.command}" failed: ${reason}`];
    const trimmed = stderr.trim();
    if (trimmed) {
      parts.push(`stderr: ${trimmed.length > 2048 ? "…" + trimmed.slice(-2048) : trimmed}`);
    }
    if (exec.installHint) parts.push(exec.installHint.trim());
    return new Error(parts.join("\n"));
  };
  if (mode === "Always" && !options.terminal) {
    throw fail(
      "it requires an interactive terminal (interactiveMode: Always) and none is attached",
    );
  }
  const env = Object.fromEntries((exec.env ?? []).map((entry) => [entry.name, entry.value]));
  env.KUBERNETES_EXEC_INFO = execCredentialRequest(exec.apiVersion, {
    interactive,
    ...(options.cluster ? { cluster: options.cluster } : {}),
  });
  const signal = AbortSignal.timeout(options.timeoutMs);
  let result: PluginRun;
  try {
    result = await options.run(exec.command, { args: exec.args ?? [], env, interactive, signal });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) throw fail("the command was not found");
    if (signal.aborted) throw fail(`it did not finish within ${options.timeoutMs / 1000} s`);
    throw fail((error as Error).message);
  }
  if (signal.aborted) {
    throw fail(`it did not finish within ${options.timeoutMs / 1000} s`, result.stderr);
  }
  if (result.code !== 0) throw fail(`it exited with code ${result.code}`, result.stderr);
  try {
    return parseExecCredential(result.stdout, exec.apiVersion);
  } catch (error) {
    throw fail((error as Error).message, result.stderr);
  }
}

/** Runs the plugin as a child process; stdin is inherited only for interactive plugins. */
export async function runPluginProcess(
  command: string,
  options: PluginRunOptions,
): Promise<PluginRun> {
  const child = new Deno.Command(command, {
    args: options.args,
    env: options.env,
    stdin: options.interactive ? "inherit" : "null",
    stdout: "piped",
    stderr: "piped",
    signal: options.signal,
  }).spawn();
  return textOutput(await child.output());
}
