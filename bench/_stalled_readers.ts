/**
 * Stalled readers: clients that ask for a large answer and never read it. A proxy that keeps
 * reading its upstream holds the whole answer; one with backpressure holds a bounded part.
 */
import { rssMiB } from "./_process_memory.ts";

/** How long the clients stall while the proxy's memory is sampled. */
const STALL_MS = 4_000;

/** A proxy to stall: where it listens, how to authenticate, and its process. */
export interface StalledTarget {
  url: string;
  headers: string[];
  caPem?: string;
  pid: number;
}

/**
 * Opens `clients` connections to `path`, sends the request, reads nothing; returns the proxy's
 * peak resident memory (MiB) over the stall, then closes the connections.
 */
export async function stalledReaderPeakMiB(
  target: StalledTarget,
  path: string,
  clients: number,
): Promise<number> {
  const url = new URL(target.url);
  const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
  const connections: Deno.Conn[] = [];
  let peak = rssMiB(target.pid);
  const sampler = setInterval(() => peak = Math.max(peak, rssMiB(target.pid)), 100);
  try {
    for (let i = 0; i < clients; i++) {
      const connection = url.protocol === "https:"
        ? await Deno.connectTls({
          hostname: url.hostname,
          port,
          ...(target.caPem ? { caCerts: [target.caPem] } : {}),
        })
        : await Deno.connect({ hostname: url.hostname, port });
      connections.push(connection);
      const head = [`GET ${path} HTTP/1.1`, `Host: ${url.host}`, ...target.headers, "", ""];
      await connection.write(new TextEncoder().encode(head.join("\r\n")));
    }
    await new Promise((resolve) => setTimeout(resolve, STALL_MS));
    peak = Math.max(peak, rssMiB(target.pid));
  } finally {
    clearInterval(sampler);
    for (const connection of connections) {
      try {
        connection.close();
      } catch { /* already closed */ }
    }
  }
  return peak;
}
