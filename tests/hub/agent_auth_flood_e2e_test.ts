/**
 * A flood of made-up agent tokens against a real hub: the host reads they cause are bounded
 * (`--agent-auth-concurrency`), the excess gets 429 with Retry-After at once, and a real agent
 * still connects.
 */
import https from "node:https";
import { assert, assertEquals } from "../_utils/assert.ts";
import { e2eTest } from "../_utils/e2e.ts";
import { tempDir } from "../_utils/temp_dir.ts";
import { startHubFixture } from "../_utils/hub_fixture.ts";
import { metricValue } from "../_utils/hub_process.ts";
import { formatJoinToken, newAgentToken, newJoinToken } from "../../src/members/mod.ts";
import { AGENT_CLUSTER_HEADER, AGENT_JOIN_PATH } from "../../src/tunnel/mod.ts";

interface Answer {
  code: number;
  retryAfter: string | undefined;
  reason: string | undefined;
}

/** One request on its own connection; the answer's code, Retry-After and Status reason. */
function ask(
  hub: { url: string; caPem: string },
  request: { path: string; method: string; headers: Record<string, string> },
): Promise<Answer> {
  const url = new URL(request.path, hub.url);
  return new Promise((resolve, reject) => {
    const req = https.request({
      host: url.hostname,
      port: url.port,
      path: url.pathname,
      method: request.method,
      headers: request.headers,
      ca: hub.caPem,
      agent: false,
    });
    // A refused upgrade is an ordinary response; an accepted one would be an 'upgrade' event.
    req.on("upgrade", () => reject(new Error("a made-up token was accepted")));
    req.on("response", (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => body += chunk);
      res.on("end", () => {
        const header = res.headers["retry-after"];
        resolve({
          code: res.statusCode ?? 0,
          retryAfter: Array.isArray(header) ? header[0] : header,
          reason: (JSON.parse(body) as { reason?: string }).reason,
        });
      });
    });
    req.on("error", reject);
    req.end();
  });
}

e2eTest(
  "a flood of made-up agent tokens gets 429 beyond --agent-auth-concurrency; a real agent still connects",
  async (env) => {
    await using dir = await tempDir();
    const fixture = await startHubFixture(env, dir.path, {
      hubArgs: ["--agent-auth-concurrency=2"],
    });
    const hub = fixture.hub;
    try {
      const member = await fixture.registerMember(env.cluster("east"));
      const joins = Array.from({ length: 60 }, () =>
        ask(hub, {
          path: AGENT_JOIN_PATH,
          method: "POST",
          headers: {
            authorization: `Bearer ${formatJoinToken(newJoinToken())}`,
            [AGENT_CLUSTER_HEADER]: member,
          },
        }));
      const connects = Array.from({ length: 60 }, () =>
        ask(hub, {
          path: "/connect",
          method: "GET",
          headers: {
            authorization: `Bearer ${newAgentToken()}`,
            [AGENT_CLUSTER_HEADER]: member,
            connection: "Upgrade",
            upgrade: "websocket",
            "sec-websocket-version": "13",
            "sec-websocket-key": btoa("0123456789abcdef"),
          },
        }));
      const answers = await Promise.all([...joins, ...connects]);
      const byCode = (code: number) => answers.filter((answer) => answer.code === code);
      assertEquals(
        byCode(401).length + byCode(429).length,
        answers.length,
        `only refusals: ${JSON.stringify(answers.map((a) => a.code))}`,
      );
      assert(byCode(401).length >= 4, "the first ones are checked on the host and refused");
      assert(byCode(429).length > 0, "beyond 2 at once and 2 waiting, the hub answers 429");
      for (const answer of byCode(429)) {
        assertEquals(answer.retryAfter, "1");
        assertEquals(answer.reason, "TooManyRequests");
      }
      assertEquals(
        metricValue(await hub.metrics(), "mca_hub_agent_auth_throttled_total", {}),
        byCode(429).length,
      );

      // The gate is a queue, not a lock-out: a real agent connects right after.
      await fixture.connectAgent(member);
    } finally {
      await fixture.stop();
    }
  },
);
