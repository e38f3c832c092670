/**
 * Debian's tinyproxy as a real forward proxy on loopback, with Basic credentials and a log of
 * the CONNECTs it was asked for. Given host names, it runs in a mount namespace of its own with
 * an /etc/hosts that resolves them, so only the proxy can reach those names (needs root).
 */
import {
  freePort,
  type ManagedProcess,
  missingPackages,
  PROXY_PACKAGES,
  startManagedProcess,
} from "../../src/testenv/mod.ts";
import { waitFor } from "../../src/common/mod.ts";

/** A running tinyproxy. */
export interface Tinyproxy {
  port: number;
  /** The proxy URL with its credentials, as HTTPS_PROXY takes it. */
  url: string;
  process: ManagedProcess;
  /** The targets of the CONNECT requests in its log so far ("host:port"). */
  connects(): Promise<string[]>;
  /** The host names it established tunnels to so far. */
  established(): Promise<string[]>;
  stop(): Promise<void>;
}

/** How tinyproxy runs. */
export interface TinyproxyOptions {
  user: string;
  password: string;
  /** Names only the proxy resolves (name → IP). */
  hosts?: Record<string, string>;
}

/** Starts tinyproxy in the foreground; ports taken in the meantime are retried. */
export async function startTinyproxy(dir: string, options: TinyproxyOptions): Promise<Tinyproxy> {
  const exists = (path: string) => {
    try {
      return Deno.statSync(path).isFile;
    } catch {
      return false;
    }
  };
  if (missingPackages(PROXY_PACKAGES, exists).length > 0) {
    throw new Error(
      'tinyproxy is not installed: run "scripts/deno task testenv:build" as root (or "apt-get install tinyproxy")',
    );
  }
  for (let attempt = 1;; attempt++) {
    try {
      return await startOnce(dir, options, freePort());
    } catch (error) {
      if (attempt >= 3 || !/Could not create listening sockets/.test(`${error}`)) throw error;
    }
  }
}

/** Runs `argv` in a mount namespace of its own whose /etc/hosts is `hostsFile` (root only). */
export function withHostsFile(hostsFile: string, argv: string[]): string[] {
  return [
    "unshare",
    "--mount",
    "sh",
    "-c",
    'mount --bind "$0" /etc/hosts && exec "$@"',
    hostsFile,
    ...argv,
  ];
}

/** Writes an /etc/hosts for withHostsFile. */
export async function writeHostsFile(path: string, hosts: Record<string, string>): Promise<string> {
  const lines = [
    "127.0.0.1 localhost",
    ...Object.entries(hosts).map(([name, ip]) => `${ip} ${name}`),
  ];
  await Deno.writeTextFile(path, `${lines.join("\n")}\n`);
  return path;
}

async function startOnce(dir: string, options: TinyproxyOptions, port: number): Promise<Tinyproxy> {
  const logFile = `${dir}/tinyproxy-${port}.log`;
  const config = await writeConfig(dir, port, logFile, options);
  const argv = ["tinyproxy", "-d", "-c", config];
  const [command, ...args] = options.hosts
    ? withHostsFile(await writeHostsFile(`${dir}/tinyproxy-${port}.hosts`, options.hosts), argv)
    : argv;
  const process = await startManagedProcess(`tinyproxy-${port}`, command!, args, {
    logPath: `${dir}/tinyproxy-${port}.out`,
  });
  const exited = new AbortController();
  void process.exited.then(async (code) =>
    exited.abort(new Error(`tinyproxy exited with code ${code}: ${await process.tail(10)}`))
  );
  await waitFor(async () => {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return true;
    } catch {
      return false;
    }
  }, { signal: exited.signal, description: `tinyproxy to listen on port ${port}` }).catch(
    async (error) => {
      await process.stop();
      throw error;
    },
  );
  const log = () => Deno.readTextFile(logFile).catch(() => "");
  const matches = async (pattern: RegExp) =>
    [...(await log()).matchAll(pattern)].map((match) => match[1]!);
  const credentials = `${encodeURIComponent(options.user)}:${encodeURIComponent(options.password)}`;
  return {
    port,
    url: `http://${credentials}@127.0.0.1:${port}`,
    process,
    connects: () => matches(/Request \(file descriptor \d+\): CONNECT (\S+) HTTP/g),
    established: () => matches(/Established connection to host "([^"]+)"/g),
    stop: () => process.stop(),
  };
}

async function writeConfig(
  dir: string,
  port: number,
  logFile: string,
  options: TinyproxyOptions,
): Promise<string> {
  const path = `${dir}/tinyproxy-${port}.conf`;
  await Deno.writeTextFile(
    path,
    [
      `Port ${port}`,
      "Listen 127.0.0.1",
      "Timeout 600",
      `LogFile "${logFile}"`,
      // "Connect" logs each request line and each established tunnel.
      "LogLevel Connect",
      "MaxClients 50",
      // Credentials in the config are words (tinyproxy's parser takes nothing else).
      `BasicAuth ${options.user} ${options.password}`,
      "",
    ].join("\n"),
  );
  return path;
}
