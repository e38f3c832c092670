/**
 * One noisy caller cannot take the hub from the others: with --max-requests-per-caller=2, a
 * caller holding two requests in flight (bodies it never finishes sending) gets 429 for a third,
 * while another caller, and the same caller's watch, go through; a slot frees when a held
 * request ends.
 */
import { assertEquals, assertStringIncludes } from "../_utils/assert.ts";
import { e2eTest, kubectlOk, uniqueName } from "../_utils/e2e.ts";
import { tempDir } from "../_utils/temp_dir.ts";
import { allowClusterProxy, startHubFixture } from "../_utils/hub_fixture.ts";
import { connectRaw, latin1Bytes } from "../_utils/raw_tls.ts";
import { waitFor } from "../../src/common/mod.ts";

e2eTest(
  "--max-requests-per-caller: a caller at its limit gets 429, others and its watches go through",
  async (env) => {
    const host = env.cluster("host");
    const east = env.cluster("east");
    await using dir = await tempDir();
    const fixture = await startHubFixture(env, dir.path, {
      hubArgs: ["--max-requests-per-caller=2"],
    });
    const hub = fixture.hub;
    const held: Deno.TlsConn[] = [];
    try {
      const member = await fixture.registerMember(east);
      await fixture.connectAgent(member);
      const users = uniqueName("callers");
      await kubectlOk(host, ["create", "namespace", users]);
      const tokens: Record<string, string> = {};
      // "view" gets its rules from the aggregation controller, which these clusters do not run.
      await kubectlOk(east, [
        "create",
        "clusterrole",
        `${users}-read`,
        "--verb=get,list,watch",
        "--resource=configmaps",
      ]);
      for (const name of ["alice", "bob"]) {
        await kubectlOk(host, ["create", "serviceaccount", name, "-n", users]);
        await allowClusterProxy(host, member, { namespace: users, name }, ["get", "create"]);
        await kubectlOk(east, [
          "create",
          "clusterrolebinding",
          `${users}-${name}`,
          `--clusterrole=${users}-read`,
          `--user=mca:host:system:serviceaccount:${users}:${name}`,
        ]);
        tokens[name] = (await kubectlOk(host, ["create", "token", name, "-n", users])).trim();
      }
      const base = `${hub.url}/clusters/${member}/api/v1/namespaces/default/configmaps`;
      const get = async (user: string, query = "") => {
        using client = Deno.createHttpClient({ caCerts: [hub.caPem] });
        const response = await fetch(`${base}${query}`, {
          headers: { Authorization: `Bearer ${tokens[user]}` },
          client,
        });
        const streaming = query.includes("watch");
        const answer = {
          status: response.status,
          retryAfter: response.headers.get("retry-after"),
          body: streaming ? "" : await response.text(),
        };
        // A watch's headers are its answer: stop reading it.
        if (streaming) await response.body?.cancel();
        return answer;
      };
      const first = await get("alice");
      assertEquals(first.status, 200, first.body);

      // Alice holds two creates in flight: heads sent, bodies never finished.
      for (let i = 0; i < 2; i++) {
        const conn = await connectRaw(hub.url, hub.caPem);
        held.push(conn);
        const path = new URL(base).pathname;
        await conn.write(latin1Bytes(
          `POST ${path} HTTP/1.1\r\nHost: hub\r\nAuthorization: Bearer ${tokens.alice}\r\n` +
            "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{",
        ));
      }
      const refused = await waitFor(async () => {
        const answer = await get("alice");
        return answer.status === 429 ? answer : undefined;
      }, { description: "alice's third request to be refused" });
      assertEquals(refused.retryAfter, "1");
      assertStringIncludes(refused.body, "Too many requests in flight for");
      assertStringIncludes(refused.body, `system:serviceaccount:${users}:alice`);

      assertEquals((await get("bob")).status, 200, "another caller goes through");
      assertEquals((await get("alice", "?watch=1")).status, 200, "a watch is not counted");

      // One held request ends: alice has a slot again.
      held.shift()!.close();
      await waitFor(async () => (await get("alice")).status === 200, {
        description: "alice's slot to free once a held request ended",
      });
    } finally {
      for (const conn of held) conn.close();
      await fixture.stop();
    }
  },
);
