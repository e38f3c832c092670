/**
 * The hub's and the agent's request path against real API servers, with raw TLS clients: agents
 * whose cluster header is not a name, a client that stops reading a large LIST, and requests
 * kube-apiserver refuses (issue 16, items 7 to 10).
 */
import { assert, assertEquals } from "../_utils/assert.ts";
import { e2eTest, kubectlOk, sharedFixture, uniqueName } from "../_utils/e2e.ts";
import { waitUntilHeldBack } from "../_utils/held_back.ts";
import {
  allowClusterProxy,
  type FixtureAgent,
  type HubFixture,
  startHubFixture,
} from "../_utils/hub_fixture.ts";
import { ESCAPING_TARGETS, MALFORMED_REQUESTS } from "../_utils/malformed_requests.ts";
import { connectRaw, latin1Bytes, rawExchange, readAnswer } from "../_utils/raw_tls.ts";

interface Fixture {
  hub: HubFixture;
  member: string;
  agent: FixtureAgent;
  /** A host user's token that may reach the member, and may list ConfigMaps in `namespace` there. */
  token: string;
  namespace: string;
}

/** One hub, one agent for east, a user allowed to read ConfigMaps of one namespace on east. */
const hubFixture = sharedFixture("mca-hub-path-e2e-", async (env, dir): Promise<Fixture> => {
  const host = env.cluster("host");
  const east = env.cluster("east");
  const hub = await startHubFixture(env, dir);
  const member = await hub.registerMember(east);
  const agent = await hub.connectAgent(member);
  const users = uniqueName("users");
  await kubectlOk(host, ["create", "namespace", users]);
  await kubectlOk(host, ["create", "serviceaccount", "reader", "-n", users]);
  await allowClusterProxy(host, member, { namespace: users, name: "reader" }, ["get", "list"]);
  const namespace = uniqueName("big");
  await kubectlOk(east, ["create", "namespace", namespace]);
  await kubectlOk(east, [
    "create",
    "role",
    "reader",
    "-n",
    namespace,
    "--verb=get,list",
    "--resource=configmaps",
  ]);
  await kubectlOk(east, [
    "create",
    "rolebinding",
    "reader",
    "-n",
    namespace,
    "--role=reader",
    `--user=mca:host:system:serviceaccount:${users}:reader`,
  ]);
  const token = (await kubectlOk(host, ["create", "token", "reader", "-n", users])).trim();
  return { hub, member, agent, token, namespace };
});

/** A WebSocket handshake on /connect as an agent sends it, with the given headers. */
function connectRequest(headers: Record<string, string>): string {
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join("");
  return "GET /connect HTTP/1.1\r\nHost: mca.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
    `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${btoa("0123456789abcdef")}\r\n${lines}\r\n`;
}

e2eTest(
  "an agent's cluster header is checked before it is used: a name, then the token",
  async (env) => {
    const { hub, member } = await hubFixture(env);
    const { url, caPem } = hub.hub;
    const token = (await Deno.readTextFile(hub.memberFiles(member).tokenFile)).trim();
    const handshake = (headers: Record<string, string>) =>
      rawExchange(url, caPem, connectRequest(headers), { headOnly: true });

    // No token: refused before anything is asked of the host (its error text never shows).
    for (const header of ["X-Mca-Agent-Cluster", "X-Mca-Cluster"]) {
      const probing = await handshake({ [header]: "x/../../secrets?labelSelector=(((" });
      assertEquals(probing.status, 401, `${header}: ${probing.body}`);
      assert(!/labelSelector|parse|secrets/i.test(probing.body), probing.body);
    }
    // A valid token with a name that climbs to another Secret: not a name, refused.
    for (const header of ["X-Mca-Agent-Cluster", "X-Mca-Cluster"]) {
      const climbing = await handshake({
        Authorization: `Bearer ${token}`,
        [header]: `zz/../mca-agent-${member}`,
      });
      assertEquals(climbing.status, 400, header);
    }
    assertEquals(await hub.hub.agents(`zz/../mca-agent-${member}`), 0);
    // The agent's own header, and the one agents of the previous release send, both work.
    for (const header of ["X-Mca-Agent-Cluster", "X-Mca-Cluster"]) {
      const accepted = await handshake({ Authorization: `Bearer ${token}`, [header]: member });
      assertEquals(accepted.status, 101, header);
    }
    // A wrong token for a real name is still a 401.
    const wrong = await handshake({ Authorization: "Bearer wrong", "X-Mca-Agent-Cluster": member });
    assertEquals(wrong.status, 401);
  },
);

e2eTest(
  "a client that stops reading a 60 MiB LIST through the hub holds the member back; hub and agent stay small",
  async (env) => {
    const east = env.cluster("east");
    const { hub, member, agent, token, namespace } = await hubFixture(env);
    const blob = "x".repeat(960 * 1024);
    for (let i = 0; i < 64; i += 8) {
      await Promise.all(
        Array.from(
          { length: 8 },
          (_, j) =>
            east.client.create(`/api/v1/namespaces/${namespace}/configmaps`, {
              metadata: { name: `big-${i + j}` },
              data: { blob },
            }),
        ),
      );
    }
    const conn = await connectRaw(hub.hub.url, hub.hub.caPem);
    try {
      await conn.write(latin1Bytes(
        `GET /clusters/${member}/api/v1/namespaces/${namespace}/configmaps HTTP/1.0\r\n` +
          `Host: mca.test\r\nAuthorization: Bearer ${token}\r\n\r\n`,
      ));
      await waitUntilHeldBack(
        [
          { name: "the hub", pid: hub.hub.process.pid },
          { name: "the agent", pid: agent.process.pid },
        ],
        Number(new URL(east.url).port),
        40,
      );
      const answer = await readAnswer(conn, false);
      assertEquals(answer.status, 200);
      assertEquals(JSON.parse(answer.body).items.length, 64);
    } finally {
      conn.close();
      await kubectlOk(east, ["delete", "configmaps", "--all", "-n", namespace]);
    }
  },
);

e2eTest(
  "the hub refuses what kube-apiserver refuses with the same class of status, and targets that are not paths",
  async (env) => {
    const east = env.cluster("east");
    const { hub, member, token } = await hubFixture(env);
    const { url, caPem } = hub.hub;
    const path = "/api/v1/namespaces/default/configmaps";
    for (const malformed of MALFORMED_REQUESTS) {
      const direct = await rawExchange(
        east.url,
        east.caPem,
        malformed.build(path, `Authorization: Bearer ${east.adminToken}`),
      );
      const tunnelled = await rawExchange(
        url,
        caPem,
        malformed.build(`/clusters/${member}${path}`, `Authorization: Bearer ${token}`),
      );
      assert(direct.status >= 400 && direct.status < 500, `${malformed.name}: ${direct.status}`);
      assertEquals(tunnelled.status, direct.status === 405 ? 405 : 400, malformed.name);
      assertEquals(JSON.parse(tunnelled.body).kind, "Status", malformed.name);
    }
    for (const target of ESCAPING_TARGETS) {
      // Below a cluster's prefix too ("-2/..." there would only name another cluster).
      const below = target.startsWith("/") ? [`/clusters/${member}${target}`] : [];
      for (const full of [target, ...below]) {
        const answer = await rawExchange(
          url,
          caPem,
          `GET ${full} HTTP/1.1\r\nHost: mca.test\r\nAuthorization: Bearer ${token}\r\n` +
            "Connection: close\r\n\r\n",
        );
        assertEquals(answer.status, 400, full);
      }
    }
  },
);
