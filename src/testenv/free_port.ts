/** Free TCP ports on loopback for processes that need a port number up front. */

/** Asks the OS for a free port on 127.0.0.1; another process could take it before it is used, so callers retry on a clash. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}
