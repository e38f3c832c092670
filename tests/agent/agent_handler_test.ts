import { assertEquals, assertStringIncludes } from "../_utils/assert.ts";
import { fakeMember } from "../_utils/fake_member.ts";
import { streamPair } from "../_utils/in_memory_tunnel.ts";
import { ConnectionReader } from "../_utils/raw_http.ts";
import { runUpgradeCases, type UpgradeClient, type UpgradePath } from "../forward/upgrade_cases.ts";
import { type AgentHandlerOptions, createAgentHandler } from "../../src/agent/mod.ts";
import type { Upstream } from "../../src/forward/mod.ts";
import { createLogger, type Logger, silentLogger } from "../../src/log/mod.ts";
import { createMetricsRegistry } from "../../src/metrics/mod.ts";
import {
  encodeHead,
  nodeDuplexOf,
  type TunnelRequestHead,
  type TunnelResponseHead,
  YamuxSession,
} from "../../src/tunnel/mod.ts";

/** The hub's end of a tunnel whose agent serves `member` as cluster "c1". */
function agentUnderTest(
  member: Upstream,
  { logger = silentLogger, options = {} }: { logger?: Logger; options?: AgentHandlerOptions } = {},
) {
  const [hubEnd, agentEnd] = streamPair();
  const serve = createAgentHandler(member, "c1", logger, options);
  const agent = new YamuxSession(agentEnd, {
    client: true,
    keepAliveIntervalMs: 0,
    onStream: (stream) => void serve(stream),
  });
  const hub = new YamuxSession(hubEnd, { client: false, keepAliveIntervalMs: 0 });
  return {
    /** Sends a request head (and `after` it, raw bytes) on a new stream; reads the answer's head. */
    async exchange(head: TunnelRequestHead, after: string, end: boolean) {
      const socket = nodeDuplexOf(await hub.open());
      const reader = new ConnectionReader(socket);
      const bytes = new TextEncoder().encode(after);
      socket.write(new Uint8Array([...encodeHead(head), ...bytes]));
      if (end) socket.end();
      return await readTunnelAnswer(reader, socket);
    },
    async close() {
      await hub.close();
      await agent.close();
    },
  };
}

/** Reads a tunnel response head (4-byte length, JSON) and gives the bytes after it. */
async function readTunnelAnswer(
  reader: ConnectionReader,
  socket: ReturnType<typeof nodeDuplexOf>,
): Promise<UpgradeClient & { statusText: string }> {
  const length = () =>
    reader.text.length < 4
      ? Infinity
      : new DataView(Uint8Array.from(reader.text.slice(0, 4), (c) => c.charCodeAt(0)).buffer)
        .getUint32(0);
  await reader.until(() => reader.text.length >= 4 + length());
  const start = 4 + length();
  const head = JSON.parse(reader.text.slice(4, start)) as TunnelResponseHead;
  const after = () => reader.text.slice(start);
  return {
    status: head.status,
    statusText: head.statusText,
    headers: head.headers,
    async readUntil(text) {
      await reader.until(() => after().includes(text));
      return after();
    },
    async readToEnd() {
      await reader.until(() => false);
      return after();
    },
    write: (text) => void socket.write(text),
    close: () => void socket.destroy(),
  };
}

Deno.test("createAgentHandler() sends the hub's request to its member and streams the answer back", async () => {
  const member = fakeMember("c1", {
    answer: {
      status: 200,
      statusMessage: "OK",
      headers: { "content-type": "text/plain" },
      body: "hi",
    },
  });
  const agent = agentUnderTest(member.upstream);
  try {
    const answer = await agent.exchange(
      {
        method: "POST",
        path: "/api/v1/namespaces/default/configmaps",
        headers: {
          "impersonate-user": ["alice"],
          "content-type": "application/json",
          connection: "keep-alive",
          authorization: "Bearer the-callers-token",
        },
      },
      "{}",
      true,
    );
    assertEquals(answer.status, 200);
    assertEquals(answer.headers["x-mca-cluster"], "c1");
    assertEquals(answer.headers["content-type"], "text/plain");
    assertEquals(await answer.readToEnd(), "hi");
    const [request] = member.upstream.requests;
    assertEquals(request?.method, "POST");
    assertEquals(request?.path, "/api/v1/namespaces/default/configmaps");
    assertEquals(new TextDecoder().decode(request?.body), "{}");
    // Impersonation stays (the hub set it); credentials and hop-by-hop headers do not cross.
    assertEquals(request?.headers["impersonate-user"], ["alice"]);
    assertEquals(request?.headers["authorization"], undefined);
    assertEquals(request?.headers["connection"], undefined);
  } finally {
    await agent.close();
  }
});

Deno.test("createAgentHandler() answers a member that cannot be reached with a 503 Status", async () => {
  const member = fakeMember("c1", { fail: "connection refused" });
  const agent = agentUnderTest(member.upstream);
  try {
    const answer = await agent.exchange({ method: "GET", path: "/api", headers: {} }, "", true);
    assertEquals(answer.status, 503);
    assertEquals(answer.headers["x-mca-cluster"], "c1");
    const status = JSON.parse(await answer.readToEnd());
    assertEquals(status.code, 503);
    assertStringIncludes(status.message, `Cluster "c1" is unreachable: connection refused`);
  } finally {
    await agent.close();
  }
});

Deno.test("createAgentHandler() refuses a body over its limit with a 413 Status, the member untouched", async () => {
  const member = fakeMember("c1", { answer: { status: 200 } });
  const agent = agentUnderTest(member.upstream);
  try {
    const answer = await agent.exchange(
      { method: "PUT", path: "/api/v1/namespaces/default/configmaps/big", headers: {} },
      "x".repeat(3 * 1024 * 1024 + 1),
      true,
    );
    assertEquals(answer.status, 413);
    assertEquals(JSON.parse(await answer.readToEnd()).code, 413);
    assertEquals(member.upstream.requests.length, 0);
  } finally {
    await agent.close();
  }
});

Deno.test("createAgentHandler() times each request by code and logs the member's Audit-Id", async () => {
  const registry = createMetricsRegistry();
  const requestDuration = registry.histogram("mca_agent_request_duration_seconds", "Latency");
  const lines: string[] = [];
  const logger = createLogger({ level: "debug", write: (line) => lines.push(line) });
  const member = fakeMember("c1", {
    answer: { status: 404, headers: { "audit-id": "0b1e7c4a-audit" }, body: "{}" },
  });
  const agent = agentUnderTest(member.upstream, { logger, options: { requestDuration } });
  const failing = agentUnderTest(fakeMember("c1", { fail: "connection refused" }).upstream, {
    options: { requestDuration },
  });
  try {
    const answer = await agent.exchange({ method: "GET", path: "/api/x", headers: {} }, "", true);
    assertEquals(answer.status, 404);
    await answer.readToEnd();
    const failed = await failing.exchange({ method: "GET", path: "/api", headers: {} }, "", true);
    assertEquals(failed.status, 503);
    const text = registry.render();
    assertStringIncludes(text, 'mca_agent_request_duration_seconds_count{code="404"} 1');
    assertStringIncludes(text, 'mca_agent_request_duration_seconds_count{code="503"} 1');
    const request = lines.map((line) => JSON.parse(line)).find((line) => line.msg === "request");
    assertEquals(request?.auditId, "0b1e7c4a-audit");
    assertEquals(request?.code, 404);
  } finally {
    await agent.close();
    await failing.close();
  }
});

runUpgradeCases("createAgentHandler()", "c1", (member): Promise<UpgradePath> => {
  const agent = agentUnderTest(member);
  return Promise.resolve({
    open: (early) =>
      agent.exchange(
        {
          method: "GET",
          path: "/api/v1/namespaces/default/pods/p/exec?command=sh",
          headers: { connection: "Upgrade", upgrade: "websocket", "impersonate-user": ["alice"] },
        },
        early,
        false,
      ),
    close: () => agent.close(),
  });
});
