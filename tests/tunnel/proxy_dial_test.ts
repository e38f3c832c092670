import { assertEquals, assertRejects } from "../_utils/assert.ts";
import { parseProxyUrl } from "../../src/tunnel/egress_proxy.ts";
import { openProxyTunnel } from "../../src/tunnel/proxy_dial.ts";

/** A one-connection fake proxy: records the request head, sends `answer`, then echoes. */
function fakeProxy(answer: string): { port: number; head: Promise<string>; close(): void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let conn: Deno.Conn | undefined;
  const head = (async () => {
    conn = await listener.accept();
    let text = "";
    const buffer = new Uint8Array(4096);
    while (!text.includes("\r\n\r\n")) {
      const n = await conn.read(buffer);
      if (n === null) break;
      text += new TextDecoder().decode(buffer.subarray(0, n));
    }
    if (answer === "") conn.close();
    else await conn.write(new TextEncoder().encode(answer));
    void conn.readable.pipeTo(conn.writable).catch(() => {});
    return text;
  })();
  return {
    port: listener.addr.port,
    head,
    close() {
      listener.close();
      try {
        conn?.close();
      } catch { /* closed by the pipe */ }
    },
  };
}

Deno.test("openProxyTunnel() asks for the target with Basic credentials and carries bytes after 200", async () => {
  const proxy = fakeProxy("HTTP/1.1 200 Connection established\r\n\r\n");
  try {
    const socket = await openProxyTunnel(
      parseProxyUrl(`http://alice:p%40ss@127.0.0.1:${proxy.port}`),
      { hostname: "hub.example", port: 9443 },
    );
    assertEquals(
      await proxy.head,
      "CONNECT hub.example:9443 HTTP/1.1\r\nHost: hub.example:9443\r\n" +
        `Proxy-Authorization: Basic ${btoa("alice:p@ss")}\r\n\r\n`,
    );
    const echoed = new Promise<string>((resolve) => socket.once("data", (b) => resolve(`${b}`)));
    socket.resume();
    socket.write("ping");
    assertEquals(await echoed, "ping");
    socket.destroy();
  } finally {
    proxy.close();
  }
});

Deno.test("openProxyTunnel() brackets IPv6 targets and sends no credentials when there are none", async () => {
  const proxy = fakeProxy("HTTP/1.0 200 OK\r\n\r\n");
  try {
    const socket = await openProxyTunnel(parseProxyUrl(`127.0.0.1:${proxy.port}`), {
      hostname: "fd00::7",
      port: 443,
    });
    assertEquals(await proxy.head, "CONNECT [fd00::7]:443 HTTP/1.1\r\nHost: [fd00::7]:443\r\n\r\n");
    socket.destroy();
  } finally {
    proxy.close();
  }
});

Deno.test("openProxyTunnel() names the proxy (never its credentials) and what went wrong", async () => {
  const cases: Array<[string, string]> = [
    [
      "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n\r\n",
      "CONNECT hub.example:443 answered 407 Proxy Authentication Required",
    ],
    [
      "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n",
      "CONNECT hub.example:443 answered 403 Forbidden",
    ],
    ["SSH-2.0-OpenSSH\r\n\r\n", "its answer to CONNECT hub.example:443 is not HTTP"],
    ["", "closed the connection before answering CONNECT hub.example:443"],
    ["HTTP/1.1 200 OK\r\n\r\nhello", "it sent data before the tunnel was used"],
  ];
  for (const [answer, reason] of cases) {
    const proxy = fakeProxy(answer);
    try {
      const error = await assertRejects(
        () =>
          openProxyTunnel(parseProxyUrl(`http://alice:secret@127.0.0.1:${proxy.port}`), {
            hostname: "hub.example",
            port: 443,
          }),
        Error,
        `Proxy 127.0.0.1:${proxy.port}: ${reason}`,
      );
      assertEquals(error.message.includes("secret"), false);
    } finally {
      proxy.close();
    }
  }
});

Deno.test("openProxyTunnel() gives up on a proxy that does not answer", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  try {
    await assertRejects(
      () =>
        openProxyTunnel(parseProxyUrl(`127.0.0.1:${listener.addr.port}`), {
          hostname: "hub.example",
          port: 443,
        }, { timeoutMs: 100 }),
      Error,
      "no answer to CONNECT hub.example:443 in 100 ms",
    );
  } finally {
    (await accepted).close();
    listener.close();
  }
});
