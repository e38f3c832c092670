/** `mca proxy` and `mca proxy explain`. */
import {
  explainRoute,
  loadProxyConfig,
  type ProxyOptions,
  resolveProxyOptions,
  runProxy,
} from "../proxy/mod.ts";
import { UsageError } from "./run_program.ts";
import { untilSignal } from "./until_signal.ts";

/** Runs the proxy until SIGTERM or SIGINT. */
export async function proxyCommand(
  options: ProxyOptions,
  write: (text: string) => void,
): Promise<void> {
  let resolved;
  try {
    resolved = resolveProxyOptions(options);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const proxy = await runProxy(resolved);
  if (resolved.workstation) {
    write(
      `mca proxy serves ${resolved.workstation.contexts.join(", ")} at ${proxy.url}\n` +
        (resolved.workstation.writeKubeconfig
          ? `kubectl --kubeconfig ${resolved.workstation.writeKubeconfig} get namespaces\n`
          : "Pass --write-kubeconfig FILE for a kubeconfig that uses it.\n"),
    );
  }
  await untilSignal(() => proxy.stop());
}

/** Options of `mca proxy explain`. */
export interface ExplainOptions extends ProxyOptions {
  filename?: string;
  header?: string[];
  contentType?: string;
}

/** Prints which rule and cluster a request would use. */
export async function proxyExplainCommand(
  method: string,
  path: string,
  options: ExplainOptions,
  write: (text: string) => void,
): Promise<void> {
  if (!path.startsWith("/")) {
    throw new UsageError(
      `Invalid path "${path}": give the API path, e.g. /api/v1/namespaces/default/pods`,
    );
  }
  const headers: Record<string, string> = {};
  for (const header of options.header ?? []) {
    const separator = header.indexOf(":") >= 0 ? header.indexOf(":") : header.indexOf("=");
    if (separator <= 0) throw new UsageError(`Invalid --header "${header}": use Name: value`);
    headers[header.slice(0, separator).trim()] = header.slice(separator + 1).trim();
  }
  const resolved = resolveProxyOptions({ ...options, healthListen: "" });
  const config = await loadProxyConfig(resolved);
  const body = options.filename
    ? options.filename === "-"
      ? await new Response(Deno.stdin.readable).text()
      : await Deno.readTextFile(options.filename)
    : undefined;
  const contentType = options.contentType ??
    (body && !/^\s*[{[]/.test(body) ? "application/apply-patch+yaml" : "application/json");
  write(explainRoute(config, { method, path, headers, ...(body ? { body, contentType } : {}) }));
}
