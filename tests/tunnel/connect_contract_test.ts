import {
  agreedTunnelVersion,
  connectHeaders,
  LEGACY_AGENT_CLUSTER_HEADER,
  readAgentHello,
  TUNNEL_VERSION,
  TUNNEL_VERSION_HEADER,
} from "../../src/tunnel/mod.ts";
import { assertEquals } from "../_utils/assert.ts";

Deno.test("an agent's connect headers read back as the same hello", () => {
  const hello = { cluster: "east", agentId: "a1b2", memberVersion: "v1.34.10" };
  const headers = connectHeaders(hello);
  assertEquals(readAgentHello(headers), hello);
  assertEquals(headers[TUNNEL_VERSION_HEADER], String(TUNNEL_VERSION));
});

Deno.test("an agent of the previous release is read from its legacy cluster header", () => {
  assertEquals(readAgentHello({ [LEGACY_AGENT_CLUSTER_HEADER]: "west" }), {
    cluster: "west",
    agentId: "unknown",
    memberVersion: "",
  });
});

Deno.test("the agreed tunnel version is the lower of both ends; none for nonsense", () => {
  assertEquals(agreedTunnelVersion(undefined), 1, "no header: version 1");
  assertEquals(agreedTunnelVersion(String(TUNNEL_VERSION + 5)), TUNNEL_VERSION);
  assertEquals(agreedTunnelVersion(["1", "9"]), 1);
  for (const bad of ["0", "-1", "1.5", "abc", ""]) {
    assertEquals(agreedTunnelVersion(bad), undefined, bad);
  }
});
