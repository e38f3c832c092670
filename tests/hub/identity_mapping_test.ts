import { assertEquals } from "../_utils/assert.ts";
import {
  DEFAULT_IDENTITY_MAPPING,
  type IdentityMapping,
  isPrivilegedGroup,
  mapIdentity,
  type MappedIdentity,
  parseIdentityMapping,
} from "../../src/hub/identity_mapping.ts";
import type { UserInfo } from "../../src/hub/user_access.ts";

const SA = "system:serviceaccount:default:foo";
const SA_GROUPS = [
  "system:serviceaccounts",
  "system:serviceaccounts:default",
  "system:authenticated",
];

function refused(user: string): MappedIdentity {
  return {
    kind: "refused",
    message: `Forbidden: cluster "east" does not accept the host user "${user}": ` +
      "privileged users need spec.identityMapping.allowPrivileged, and a prefix must not make a system: name",
  };
}

const CASES: {
  name: string;
  user: UserInfo;
  mapping?: Partial<IdentityMapping>;
  want: MappedIdentity;
}[] = [
  {
    name: "a host ServiceAccount and its groups arrive prefixed by default",
    user: { username: SA, groups: SA_GROUPS, uid: "u-1", extra: { k: ["v"] } },
    want: {
      kind: "mapped",
      user: {
        username: `mca:host:${SA}`,
        groups: [
          "mca:host:system:serviceaccounts",
          "mca:host:system:serviceaccounts:default",
          "system:authenticated",
        ],
        uid: "u-1",
        extra: { k: ["v"] },
      },
    },
  },
  {
    name: "an empty ServiceAccount prefix passes ServiceAccounts unchanged",
    user: { username: SA, groups: SA_GROUPS },
    mapping: { serviceAccountPrefix: "" },
    want: { kind: "mapped", user: { username: SA, groups: SA_GROUPS } },
  },
  {
    name: "system:masters and other privileged groups are dropped",
    user: {
      username: "kubernetes-admin",
      groups: [
        "system:masters",
        "kubeadm:cluster-admins",
        "system:nodes",
        "system:bootstrappers:kubeadm:default-node-token",
        "system:monitoring",
        "devs",
        "system:authenticated",
      ],
    },
    want: {
      kind: "mapped",
      user: { username: "kubernetes-admin", groups: ["devs", "system:authenticated"] },
    },
  },
  {
    name: "allowPrivileged passes privileged groups unchanged",
    user: { username: "kubernetes-admin", groups: ["system:masters", "devs"] },
    mapping: { allowPrivileged: true, groupPrefix: "host:" },
    want: {
      kind: "mapped",
      user: { username: "kubernetes-admin", groups: ["system:masters", "host:devs"] },
    },
  },
  {
    name: "a privileged user is refused",
    user: { username: "system:admin" },
    want: refused("system:admin"),
  },
  {
    name: "a node is refused",
    user: { username: "system:node:n1", groups: ["system:nodes"] },
    want: refused("system:node:n1"),
  },
  {
    name: "a malformed ServiceAccount name is a privileged user",
    user: { username: "system:serviceaccount:a:b:c" },
    want: refused("system:serviceaccount:a:b:c"),
  },
  {
    name: "anonymous is refused",
    user: { username: "system:anonymous", groups: ["system:unauthenticated"] },
    want: refused("system:anonymous"),
  },
  {
    name: "allowPrivileged passes a privileged user",
    user: { username: "system:admin", groups: ["system:masters"] },
    mapping: { allowPrivileged: true },
    want: { kind: "mapped", user: { username: "system:admin", groups: ["system:masters"] } },
  },
  {
    name: "user and group prefixes",
    user: { username: "alice", groups: ["devs", "system:authenticated"] },
    mapping: { userPrefix: "host:", groupPrefix: "host:" },
    want: {
      kind: "mapped",
      user: { username: "host:alice", groups: ["host:devs", "system:authenticated"] },
    },
  },
  {
    name: "a prefix never makes a ServiceAccount, even with allowPrivileged",
    user: { username: "serviceaccount:kube-system:admin" },
    mapping: { userPrefix: "system:", allowPrivileged: true },
    want: refused("serviceaccount:kube-system:admin"),
  },
  {
    name: "a prefix split across the boundary never makes a system: name",
    user: { username: "tem:masters", groups: ["tem:masters", "ster-admins"] },
    mapping: { userPrefix: "sys", groupPrefix: "sys" },
    want: refused("tem:masters"),
  },
  {
    name: "a group prefix never makes a privileged group",
    user: { username: "alice", groups: ["tem:masters", "cluster-admins", "serviceaccounts:x"] },
    mapping: { groupPrefix: "system:" },
    want: { kind: "mapped", user: { username: "alice" } },
  },
  {
    name: "kubeadm's admin group cannot be made by a prefix",
    user: { username: "alice", groups: ["cluster-admins"] },
    mapping: { groupPrefix: "kubeadm:", allowPrivileged: true },
    want: { kind: "mapped", user: { username: "alice" } },
  },
  {
    name: "groups that map to the same name appear once",
    user: { username: "alice", groups: ["system:authenticated", "system:authenticated"] },
    want: { kind: "mapped", user: { username: "alice", groups: ["system:authenticated"] } },
  },
];

for (const { name, user, mapping, want } of CASES) {
  Deno.test(`mapIdentity(): ${name}`, () => {
    assertEquals(mapIdentity(user, { ...DEFAULT_IDENTITY_MAPPING, ...mapping }, "east"), want);
  });
}

Deno.test("parseIdentityMapping() takes defaults for missing or mistyped fields; only true allows privileged", () => {
  assertEquals(parseIdentityMapping(undefined), DEFAULT_IDENTITY_MAPPING);
  assertEquals(parseIdentityMapping({ allowPrivileged: "true", userPrefix: 3 }), {
    ...DEFAULT_IDENTITY_MAPPING,
  });
  assertEquals(
    parseIdentityMapping({
      serviceAccountPrefix: "",
      userPrefix: "h:",
      groupPrefix: "g:",
      allowPrivileged: true,
    }),
    { serviceAccountPrefix: "", userPrefix: "h:", groupPrefix: "g:", allowPrivileged: true },
  );
});

Deno.test("isPrivilegedGroup() covers system: groups but not the authenticated and ServiceAccount ones", () => {
  const cases: [string, boolean][] = [
    ["system:masters", true],
    ["system:nodes", true],
    ["system:bootstrappers", true],
    ["system:unauthenticated", true],
    ["kubeadm:cluster-admins", true],
    ["system:authenticated", false],
    ["system:serviceaccounts", false],
    ["system:serviceaccounts:ns", false],
    ["devs", false],
  ];
  for (const [group, want] of cases) assertEquals(isPrivilegedGroup(group), want, group);
});
