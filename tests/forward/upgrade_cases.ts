/**
 * The upgrade cases every data path must pass (the sidecar, the hub through an agent, the agent
 * itself), as one table in the style of Hono's router/common.case.test.ts: each path's test
 * file calls runUpgradeCases with a way to send an upgrade request through it to a fake member.
 */
import { assert, assertEquals, assertStringIncludes } from "../_utils/assert.ts";
import { type FakeMember, fakeMember, type MemberUpgrade } from "../_utils/fake_member.ts";
import { ConnectionReader } from "../_utils/raw_http.ts";
import type { Upstream } from "../../src/forward/mod.ts";

/** The client's side of an upgrade through a data path. */
export interface UpgradeClient {
  status: number;
  headers: Record<string, string | string[]>;
  /** Reads until `text` arrived after the answer's head; everything after the head so far. */
  readUntil(text: string): Promise<string>;
  /** Reads until the connection ends; everything after the answer's head. */
  readToEnd(): Promise<string>;
  write(text: string): void;
  close(): void;
}

/** A data path under test, built around a member: sends an upgrade with `early` bytes after its head. */
export interface UpgradePath {
  open(early: string): Promise<UpgradeClient>;
  close(): Promise<void>;
}

/** One case: how the member answers, and what the client must see. */
export interface UpgradeCase {
  name: string;
  upgrade: MemberUpgrade;
  check(client: UpgradeClient, member: FakeMember, cluster: string): Promise<void>;
}

const REFUSAL_BODY = JSON.stringify({
  kind: "Status",
  apiVersion: "v1",
  status: "Failure",
  message: 'pods "p" is forbidden',
  reason: "Forbidden",
  code: 403,
});

/** The table. */
export const UPGRADE_CASES: UpgradeCase[] = [
  {
    name: "a 101 joins both ways, early bytes on each side arriving first",
    upgrade: { kind: "switch", early: "member-hello;" },
    async check(client, member, cluster) {
      assertEquals(client.status, 101);
      assertEquals(client.headers["upgrade"], "websocket");
      assertEquals(client.headers["x-mca-cluster"], cluster);
      assertEquals(await client.readUntil("member-hello;"), "member-hello;");
      assert(member.far, "the member was never reached");
      const far = new ConnectionReader(member.far);
      await far.until(() => far.text.includes("client-hello;"), 2_000);
      assertEquals(far.text, "client-hello;");
      client.write("ping;");
      await far.until(() => far.text.includes("ping;"));
      assertEquals(far.text, "client-hello;ping;");
      member.far.write("pong;");
      assertEquals(await client.readUntil("pong;"), "member-hello;pong;");
      client.close();
      member.far.destroy();
    },
  },
  {
    name: "a refusal passes its status and body on, then the connection closes",
    upgrade: { kind: "refuse", status: 403, statusText: "Forbidden", body: REFUSAL_BODY },
    async check(client, member, cluster) {
      assertEquals(client.status, 403);
      assertEquals(client.headers["x-mca-cluster"], cluster);
      assertEquals(client.headers["content-type"], "application/json");
      assertEquals(await client.readToEnd(), REFUSAL_BODY);
      assertEquals(member.far, undefined);
    },
  },
  {
    name: "an upstream that fails is a 503 Status naming the cluster",
    upgrade: { kind: "fail", message: "connection refused" },
    async check(client, _member, cluster) {
      assertEquals(client.status, 503);
      const status = JSON.parse(await client.readToEnd());
      assertEquals(status.kind, "Status");
      assertEquals(status.code, 503);
      assertStringIncludes(
        status.message,
        `Cluster "${cluster}" is unreachable: connection refused`,
      );
    },
  },
];

/** Registers every case against one data path, which answers for `cluster`. */
export function runUpgradeCases(
  pathName: string,
  cluster: string,
  makePath: (member: Upstream) => Promise<UpgradePath>,
): void {
  for (const testCase of UPGRADE_CASES) {
    Deno.test(`${pathName}: ${testCase.name}`, async () => {
      const member = fakeMember(cluster, { upgrade: testCase.upgrade });
      const path = await makePath(member.upstream);
      try {
        const client = await path.open("client-hello;");
        await testCase.check(client, member, cluster);
        client.close();
      } finally {
        member.far?.destroy();
        await path.close();
      }
    });
  }
}
