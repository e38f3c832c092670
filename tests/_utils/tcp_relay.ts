/**
 * A TCP relay on a fixed loopback port that a test can switch off and on again: a cluster that
 * becomes unreachable and comes back, without touching the real API server behind it. It only
 * pipes bytes (TLS goes through end to end). Its target can change, as a Service's endpoints do
 * for kube-proxy: connections made before keep theirs.
 */

/** A relay to one address. */
export interface TcpRelay {
  port: number;
  /** Listens (again) and relays new connections. */
  start(): void;
  /** Stops listening and cuts every relayed connection. */
  stop(): void;
  /** New connections go to `target` from now on. */
  retarget(target: { hostname: string; port: number }): void;
}

/** A relay to `target` ("host:port"), not listening until started. */
export function tcpRelay(port: number, target: { hostname: string; port: number }): TcpRelay {
  let listener: Deno.Listener | undefined;
  const connections = new Set<Deno.Conn>();
  let destination = target;
  const close = (conn: Deno.Conn) => {
    connections.delete(conn);
    try {
      conn.close();
    } catch { /* already closed */ }
  };
  const relay = async (client: Deno.Conn) => {
    connections.add(client);
    let upstream: Deno.Conn | undefined;
    try {
      upstream = await Deno.connect(destination);
      connections.add(upstream);
      await Promise.race([
        client.readable.pipeTo(upstream.writable, { preventClose: true }),
        upstream.readable.pipeTo(client.writable, { preventClose: true }),
      ]);
    } catch {
      /* a side went away */
    } finally {
      close(client);
      if (upstream) close(upstream);
    }
  };
  return {
    port,
    start() {
      listener = Deno.listen({ hostname: "127.0.0.1", port });
      const current = listener;
      (async () => {
        for await (const conn of current) relay(conn);
      })().catch(() => {});
    },
    retarget(next) {
      destination = next;
    },
    stop() {
      listener?.close();
      listener = undefined;
      for (const conn of [...connections]) close(conn);
    },
  };
}
