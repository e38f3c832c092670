/** A minimal HTTP CONNECT proxy on loopback, to test kubeconfig's proxy-url with real tunnels. */

/** A running proxy and the CONNECT targets it was asked for. */
export interface ConnectProxy {
  url: string;
  targets: string[];
  close(): void;
}

/** Starts the proxy; each CONNECT opens a TCP connection to the target and pipes both ways. */
export function startConnectProxy(): ConnectProxy {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const targets: string[] = [];
  const connections = new Set<Deno.Conn>();
  (async () => {
    for await (const conn of listener) {
      connections.add(conn);
      tunnel(conn, targets, connections).catch(() => conn.close());
    }
  })().catch(() => {});
  return {
    url: `http://127.0.0.1:${listener.addr.port}`,
    targets,
    close() {
      listener.close();
      for (const conn of connections) {
        try {
          conn.close();
        } catch { /* already closed */ }
      }
    },
  };
}

async function tunnel(
  client: Deno.Conn,
  targets: string[],
  connections: Set<Deno.Conn>,
): Promise<void> {
  const head = await readHead(client);
  const [method, target] = head.split(" ");
  if (method !== "CONNECT" || !target) {
    await client.write(new TextEncoder().encode("HTTP/1.1 405 Method Not Allowed\r\n\r\n"));
    client.close();
    return;
  }
  targets.push(target);
  const [hostname, port] = [
    target.slice(0, target.lastIndexOf(":")),
    Number(target.slice(target.lastIndexOf(":") + 1)),
  ];
  const upstream = await Deno.connect({ hostname, port });
  connections.add(upstream);
  await client.write(new TextEncoder().encode("HTTP/1.1 200 Connection Established\r\n\r\n"));
  await Promise.allSettled([
    client.readable.pipeTo(upstream.writable),
    upstream.readable.pipeTo(client.writable),
  ]);
}

/** Reads up to the blank line ending the request head, one byte at a time so nothing after it is consumed. */
async function readHead(conn: Deno.Conn): Promise<string> {
  const byte = new Uint8Array(1);
  let head = "";
  while (!head.endsWith("\r\n\r\n")) {
    const n = await conn.read(byte);
    if (n === null) throw new Error("proxy client closed before sending a request");
    head += String.fromCharCode(byte[0]!);
  }
  return head;
}
