/** Two hub replicas: a request reaches a member whose agent is connected only to the other one. */
import https from "node:https";
import type { Socket } from "node:net";
import { assert, assertEquals, assertStringIncludes } from "../_utils/assert.ts";
import { e2eTest, kubectlOk, uniqueName } from "../_utils/e2e.ts";
import { startHubFixture } from "../_utils/hub_fixture.ts";
import { type HubProcess, startHubProcess } from "../_utils/hub_process.ts";
import { tempDir } from "../_utils/temp_dir.ts";
import { FORWARDED_IDENTITY_HEADER } from "../../src/hub/mod.ts";
import type { TestEnv } from "../../src/testenv/mod.ts";
import { waitFor } from "../../src/common/mod.ts";

/** Replica A (holding the member's agent) and replica B (without it), both `mca hub` processes. */
async function withReplicas(
  env: TestEnv,
  test: (replicas: { a: HubProcess; b: HubProcess; member: string }) => Promise<void>,
): Promise<void> {
  await using dir = await tempDir();
  const fixture = await startHubFixture(env, dir.path, { replicaId: "a" });
  let b: HubProcess | undefined;
  try {
    b = await startHubProcess(env.cluster("host"), dir.path, {
      namespace: fixture.namespace,
      replica: { id: "b" },
    });
    const member = await fixture.registerMember(env.cluster("east"));
    await fixture.connectAgent(member); // dials replica A only
    assertEquals(await b.agents(member), 0);
    await test({ a: fixture.hub, b, member });
  } finally {
    await b?.stop();
    await fixture.stop();
  }
}

e2eTest(
  "a hub replica forwards, in one hop over mutual TLS, to the replica that holds the agent",
  (env) =>
    withReplicas(env, async ({ a, b, member }) => {
      const host = env.cluster("host");
      const client = Deno.createHttpClient({ caCerts: [b.caPem] });
      const viaB = (headers: Record<string, string>) =>
        fetch(`${b.url}/clusters/${member}/api/v1/namespaces/default`, { headers, client });
      const forwarded = await waitFor(async () => {
        const response = await viaB({ Authorization: `Bearer ${host.adminToken}` });
        const text = await response.text();
        return response.status === 200 ? text : undefined;
      }, { description: "replica B to find replica A's Lease and forward" });
      assertEquals(JSON.parse(forwarded).metadata.name, "default");

      // Identity is still checked where the request enters: no RBAC on the host, no entry.
      const ns = uniqueName("users");
      await kubectlOk(host, ["create", "namespace", ns]);
      await kubectlOk(host, ["create", "serviceaccount", "nobody", "-n", ns]);
      const token = (await kubectlOk(host, ["create", "token", "nobody", "-n", ns])).trim();
      const denied = await viaB({ Authorization: `Bearer ${token}` });
      assertEquals(denied.status, 403);
      await denied.body?.cancel();

      // A forged forwarded identity without a replica's client certificate is refused.
      const forged = await fetch(`${a.url}/clusters/${member}/api/v1/namespaces/default`, {
        headers: {
          [FORWARDED_IDENTITY_HEADER]: JSON.stringify({
            username: "mca-admin",
            groups: ["system:masters"],
          }),
        },
        client,
      });
      assertEquals(forged.status, 401);
      assertStringIncludes(await forged.text(), "accepted only from hub replicas");
      client.close();
    }),
);

/** One answer on a keep-alive connection, and the socket it came on. */
interface Answer {
  status: number;
  contentLength: string | undefined;
  body: string;
  socket: Socket;
}

e2eTest(
  "a forwarding replica keeps the client's connection alive, also after an empty answer with a Content-Length",
  (env) =>
    withReplicas(env, async ({ b, member }) => {
      const host = env.cluster("host");
      // At most one connection: a closed one would show as a second socket.
      const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: b.caPem });
      const send = (method: string, path: string) =>
        new Promise<Answer>((resolve, reject) => {
          const request = https.request({
            host: "127.0.0.1",
            port: b.port,
            method,
            path: `/clusters/${member}${path}`,
            headers: { authorization: `Bearer ${host.adminToken}` },
            agent,
          }, (response) => {
            let body = "";
            response.setEncoding("utf8");
            response.on("data", (chunk: string) => body += chunk);
            response.on("error", reject);
            response.on("end", () =>
              resolve({
                status: response.statusCode ?? 0,
                contentLength: response.headers["content-length"],
                body,
                socket: request.socket as Socket,
              }));
          });
          // A hang is what this test looks for: answers come within seconds or not at all.
          request.setTimeout(10_000, () => request.destroy(new Error(`${method} ${path} hung`)));
          request.on("error", reject);
          request.end();
        });
      try {
        // Replica B forwards once it has found replica A's Lease.
        const first = await waitFor(async () => {
          const answer = await send("GET", "/api/v1/namespaces/default");
          return answer.status === 200 ? answer : undefined;
        }, { description: "replica B to forward" });
        assertEquals(JSON.parse(first.body).metadata.name, "default");
        assert(first.contentLength !== undefined, "the API server sent a Content-Length");

        // HEAD: a Content-Length with no body after it; the member's /healthz says "ok" (2 bytes).
        const head = await send("HEAD", "/healthz");
        assertEquals([head.status, head.contentLength, head.body], [200, "2", ""]);

        const last = await send("GET", "/api/v1/namespaces/default");
        assertEquals(last.status, 200);
        assertEquals(JSON.parse(last.body).metadata.name, "default");
        assert(first.socket === head.socket && head.socket === last.socket, "one connection");
      } finally {
        agent.destroy();
      }
    }),
);
