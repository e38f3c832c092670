import { assertEquals, assertStringIncludes } from "../_utils/assert.ts";
import { memberImpersonation } from "../../src/hub/member_impersonation.ts";
import { DEFAULT_IDENTITY_MAPPING } from "../../src/hub/identity_mapping.ts";
import type { MemberIdentity } from "../../src/hub/cluster_identity.ts";

const ROBOT = {
  username: "system:serviceaccount:ns:robot",
  groups: ["system:serviceaccounts", "system:authenticated"],
};
const of = (member: MemberIdentity) => () => Promise.resolve(member);
const AS_AGENT: MemberIdentity = {
  identity: "AgentServiceAccount",
  mapping: DEFAULT_IDENTITY_MAPPING,
};

Deno.test("memberImpersonation() impersonates the mapped caller (the default without a lookup)", async () => {
  assertEquals(await memberImpersonation("east", { user: ROBOT }, undefined), {
    kind: "member",
    headers: {
      "impersonate-user": ["mca:host:system:serviceaccount:ns:robot"],
      "impersonate-group": ["mca:host:system:serviceaccounts", "system:authenticated"],
    },
    memberUser: "mca:host:system:serviceaccount:ns:robot",
  });
});

Deno.test("memberImpersonation() as the agent: no impersonation, and a request that impersonates is refused", async () => {
  assertEquals(await memberImpersonation("east", { user: ROBOT }, of(AS_AGENT)), {
    kind: "member",
    headers: {},
  });
  const refused = await memberImpersonation(
    "east",
    { user: ROBOT, impersonator: { username: "alice" } },
    of(AS_AGENT),
  );
  assertEquals(refused.kind, "refuse");
  if (refused.kind === "refuse") {
    assertEquals(refused.code, 403);
    assertStringIncludes(refused.message, "impersonation is not supported");
  }
});

Deno.test("memberImpersonation() refuses a privileged user the Cluster does not allow: 403", async () => {
  const refused = await memberImpersonation(
    "east",
    { user: { username: "system:admin" } },
    undefined,
  );
  assertEquals(refused.kind === "refuse" ? refused.code : 0, 403);
});
