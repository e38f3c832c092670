/** Listen addresses on the command line. */

/** Parses "host:port", ":port" or "[v6]:port" into a hostname and a port. */
export function parseListenAddress(text: string, flag: string): { hostname: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(text);
  const port = Number(match?.[3]);
  if (!match || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(
      `Invalid ${flag} "${text}": use host:port, for example "0.0.0.0:8443" or "127.0.0.1:0"`,
    );
  }
  return { hostname: match[1] ?? (match[2] || "0.0.0.0"), port };
}
