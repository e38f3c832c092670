/**
 * An agent that answers what it likes (its member, or its token, is in the wrong hands): what it
 * sends stays within its own cluster's answers, and the hub stays as it was.
 */
import { assert, assertEquals } from "../_utils/assert.ts";
import { streamPair } from "../_utils/in_memory_tunnel.ts";
import { testHubDeps } from "../_utils/hub_deps.ts";
import { servePlainHttp1 } from "../_utils/plain_http1.ts";
import { waitFor } from "../../src/common/mod.ts";
import { AgentSessions, createHubHandler } from "../../src/hub/mod.ts";
import {
  encodeHead,
  readHead,
  type TunnelResponseHead,
  YamuxSession,
} from "../../src/tunnel/mod.ts";

/** A hub whose agent for "c1" answers every request with `head` and `body`. */
async function hubWithHostileAgent(head: TunnelResponseHead, body: string) {
  const [hubEnd, agentEnd] = streamPair();
  const agentSession = new YamuxSession(agentEnd, {
    client: true,
    keepAliveIntervalMs: 0,
    onStream: (stream) =>
      void readHead(stream, "request").then(() =>
        stream.writeChunks([encodeHead(head), new TextEncoder().encode(body)], true)
      ).catch(() => {}),
  });
  const session = new YamuxSession(hubEnd, { client: false, keepAliveIntervalMs: 0 });
  const sessions = new AgentSessions();
  sessions.add({
    cluster: "c1",
    agentId: "agent-1",
    session,
    tokenHash: "",
    memberVersion: "v1.35.0",
    connectedAt: new Date(),
    streams: 0,
  });
  const user = { username: "alice" };
  const deps = testHubDeps({
    sessions,
    access: {
      authenticate: () => Promise.resolve({ allowed: true, user }),
      authorize: (caller) => Promise.resolve({ allowed: true, user: caller }),
      mayImpersonate: () => Promise.resolve(false),
      checkPath: () => Promise.resolve({ allowed: true, user }),
    },
  });
  const handler = createHubHandler(deps);
  const server = await servePlainHttp1({
    request: (req, res) => handler.handleRequest(req, res),
    upgrade: (req, socket, h) => handler.handleUpgrade(req, socket, h),
  });
  /** Sends two requests on one connection; everything received until the second answer or the end. */
  const exchange = async () => {
    const socket = await server.connect();
    let received = "";
    let closed = false;
    socket.on("data", (chunk: Buffer) => received += chunk.toString("latin1"));
    socket.on("close", () => closed = true);
    const request = "GET /clusters/c1/api/v1/pods HTTP/1.1\r\nHost: hub\r\n" +
      "Authorization: Bearer alice\r\n\r\n";
    socket.write(request + request);
    await waitFor(() => closed || (received.match(/HTTP\/1\.1 /g) ?? []).length >= 2, {
      description: "two answers or the connection's end",
      timeoutMs: 5_000,
    });
    socket.destroy();
    return { received, closed };
  };
  return {
    exchange,
    metrics: () => deps.metrics.render(),
    async close() {
      await session.close();
      await agentSession.close();
      await server.close();
    },
  };
}

const SPOOFED = "HTTP/1.1 200 OK\r\ncontent-length: 5\r\nx-mca-cluster: c2\r\n\r\nspoof";

Deno.test("a hostile agent's answer cannot become the answer to the client's next request", async () => {
  const heads: [TunnelResponseHead, string][] = [
    [{ status: 200, statusText: `OK\r\ncontent-length: 0\r\n\r\n${SPOOFED}`, headers: {} }, ""],
    [{ status: 200, statusText: "OK", headers: { "content-length": "2" } }, `ok${SPOOFED}`],
    [{
      status: 200,
      statusText: "OK",
      headers: { "content-length": String(2 + SPOOFED.length), "transfer-encoding": "chunked" },
    }, `0\r\n\r\n${SPOOFED}`],
    [{ status: 100, statusText: "Continue", headers: {} }, ""],
  ];
  for (const [head, body] of heads) {
    const hub = await hubWithHostileAgent(head, body);
    try {
      const { received } = await hub.exchange();
      // Either whole answers framed by one Content-Length, or the connection ends: never an
      // answer the agent wrote inside another.
      assert(
        !/^HTTP\/1\.1 200 OK\r\ncontent-length: 5\r\nx-mca-cluster: c2/m.test(received),
        received,
      );
      assert(!/transfer-encoding/i.test(received), received);
      assert(!/^HTTP\/1\.1 1\d\d/.test(received), received);
    } finally {
      await hub.close();
    }
  }
});

Deno.test("an agent can neither name another cluster nor make up statuses for the hub's metrics", async () => {
  const named = await hubWithHostileAgent(
    { status: 200, statusText: "OK", headers: { "x-mca-cluster": "c2", "content-length": "2" } },
    "ok",
  );
  try {
    const { received } = await named.exchange();
    assert(/^x-mca-cluster: c1\r$/m.test(received), received);
    assert(!/c2/.test(received), received);
  } finally {
    await named.close();
  }
  const statuses = await hubWithHostileAgent({ status: 1.5, statusText: "OK", headers: {} }, "");
  try {
    const { received } = await statuses.exchange();
    assertEquals(/^HTTP\/1\.1 (\d+)/.exec(received)?.[1], "503", received);
    assert(!/code="1\.5"/.test(statuses.metrics()), statuses.metrics());
  } finally {
    await statuses.close();
  }
});
