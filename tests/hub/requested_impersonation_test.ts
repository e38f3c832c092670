import { assertEquals } from "../_utils/assert.ts";
import {
  type RequestedImpersonation,
  requestedImpersonation,
  serviceAccountOf,
  unescapeExtraKey,
} from "../../src/hub/requested_impersonation.ts";

const NEEDS_USER = {
  kind: "invalid",
  message: "Impersonate-Group, Impersonate-Extra-* and Impersonate-Uid need Impersonate-User",
} as const;

/** Raw header lines as node gives them: name, value, name, value. */
const CASES: { name: string; raw: string[]; want: RequestedImpersonation }[] = [
  { name: "no impersonation", raw: ["Accept", "application/json"], want: { kind: "none" } },
  { name: "an empty user is no user", raw: ["Impersonate-User", ""], want: { kind: "none" } },
  {
    name: "an unknown Impersonate-* header asks nothing",
    raw: ["Impersonate-Whatever", "x"],
    want: { kind: "none" },
  },
  {
    name: "a user: checked as users, system:authenticated added",
    raw: ["Impersonate-User", "alice"],
    want: {
      kind: "impersonate",
      checks: [{ group: "", resource: "users", name: "alice" }],
      user: { username: "alice", groups: ["system:authenticated"] },
    },
  },
  {
    name: "header names in any case; each repeated group line is one group",
    raw: ["IMPERSONATE-USER", "alice", "impersonate-group", "a,b", "Impersonate-Group", "c"],
    want: {
      kind: "impersonate",
      checks: [
        { group: "", resource: "users", name: "alice" },
        { group: "", resource: "groups", name: "a,b" },
        { group: "", resource: "groups", name: "c" },
      ],
      user: { username: "alice", groups: ["a,b", "c", "system:authenticated"] },
    },
  },
  {
    name: "the first of repeated users counts",
    raw: ["Impersonate-User", "alice", "impersonate-user", "system:admin"],
    want: {
      kind: "impersonate",
      checks: [{ group: "", resource: "users", name: "alice" }],
      user: { username: "alice", groups: ["system:authenticated"] },
    },
  },
  {
    name: "an empty first user hides a second one, so groups need a user",
    raw: ["Impersonate-User", "", "Impersonate-User", "alice", "Impersonate-Group", "g"],
    want: NEEDS_USER,
  },
  {
    name: "a group without a user",
    raw: ["Impersonate-Group", "system:masters"],
    want: NEEDS_USER,
  },
  { name: "a uid alone", raw: ["Impersonate-Uid", "1234"], want: NEEDS_USER },
  { name: "an extra alone", raw: ["Impersonate-Extra-Scopes", "x"], want: NEEDS_USER },
  {
    name: "a ServiceAccount: checked as serviceaccounts, its groups derived",
    raw: ["Impersonate-User", "system:serviceaccount:team-a:builder"],
    want: {
      kind: "impersonate",
      checks: [{ group: "", resource: "serviceaccounts", namespace: "team-a", name: "builder" }],
      user: {
        username: "system:serviceaccount:team-a:builder",
        groups: ["system:serviceaccounts", "system:serviceaccounts:team-a", "system:authenticated"],
      },
    },
  },
  {
    name: "a ServiceAccount with groups: only the requested ones",
    raw: ["Impersonate-User", "system:serviceaccount:a:b", "Impersonate-Group", "g"],
    want: {
      kind: "impersonate",
      checks: [
        { group: "", resource: "serviceaccounts", namespace: "a", name: "b" },
        { group: "", resource: "groups", name: "g" },
      ],
      user: { username: "system:serviceaccount:a:b", groups: ["g", "system:authenticated"] },
    },
  },
  {
    name: "a malformed ServiceAccount name is a user",
    raw: ["Impersonate-User", "system:serviceaccount:Team:x:y"],
    want: {
      kind: "impersonate",
      checks: [{ group: "", resource: "users", name: "system:serviceaccount:Team:x:y" }],
      user: { username: "system:serviceaccount:Team:x:y", groups: ["system:authenticated"] },
    },
  },
  {
    name:
      "extras: keys lower-cased then percent-decoded, same key from two spellings joined, uid last",
    raw: [
      "Impersonate-User",
      "alice",
      "Impersonate-Uid",
      "u-1",
      "Impersonate-Extra-Example.com%2FScopes",
      "view",
      "impersonate-extra-example.com%2fscopes",
      "edit",
      "Impersonate-Extra-Odd%zz",
      "v",
      "Impersonate-Extra-",
      "empty-key",
    ],
    want: {
      kind: "impersonate",
      checks: [
        { group: "", resource: "users", name: "alice" },
        {
          group: "authentication.k8s.io",
          resource: "userextras",
          subresource: "example.com/scopes",
          name: "view",
        },
        {
          group: "authentication.k8s.io",
          resource: "userextras",
          subresource: "example.com/scopes",
          name: "edit",
        },
        {
          group: "authentication.k8s.io",
          resource: "userextras",
          subresource: "odd%zz",
          name: "v",
        },
        {
          group: "authentication.k8s.io",
          resource: "userextras",
          subresource: "",
          name: "empty-key",
        },
        { group: "authentication.k8s.io", resource: "uids", name: "u-1" },
      ],
      user: {
        username: "alice",
        groups: ["system:authenticated"],
        uid: "u-1",
        extra: { "example.com/scopes": ["view", "edit"], "odd%zz": ["v"], "": ["empty-key"] },
      },
    },
  },
  {
    name: "system:anonymous gets system:unauthenticated",
    raw: ["Impersonate-User", "system:anonymous"],
    want: {
      kind: "impersonate",
      checks: [{ group: "", resource: "users", name: "system:anonymous" }],
      user: { username: "system:anonymous", groups: ["system:unauthenticated"] },
    },
  },
  {
    name: "a requested system:unauthenticated keeps system:authenticated out",
    raw: ["Impersonate-User", "bob", "Impersonate-Group", "system:unauthenticated"],
    want: {
      kind: "impersonate",
      checks: [
        { group: "", resource: "users", name: "bob" },
        { group: "", resource: "groups", name: "system:unauthenticated" },
      ],
      user: { username: "bob", groups: ["system:unauthenticated"] },
    },
  },
  {
    name: "an empty group value is a group (as kube-apiserver reads it)",
    raw: ["Impersonate-User", "bob", "Impersonate-Group", ""],
    want: {
      kind: "impersonate",
      checks: [
        { group: "", resource: "users", name: "bob" },
        { group: "", resource: "groups", name: "" },
      ],
      user: { username: "bob", groups: ["", "system:authenticated"] },
    },
  },
];

for (const { name, raw, want } of CASES) {
  Deno.test(`requestedImpersonation(): ${name}`, () => {
    assertEquals(requestedImpersonation(raw), want);
  });
}

Deno.test("unescapeExtraKey() decodes as Go's url.PathUnescape", () => {
  const cases: [string, string][] = [
    ["plain", "plain"],
    ["a%2fb", "a/b"],
    ["a+b", "a+b"],
    ["%e2%9c%93", "✓"],
    ["%ff", "\ufffd"],
    ["bad%2", "bad%2"],
    ["bad%g0", "bad%g0"],
    ["%", "%"],
  ];
  for (const [encoded, want] of cases) assertEquals(unescapeExtraKey(encoded), want, encoded);
});

Deno.test("serviceAccountOf() splits only well-formed ServiceAccount names", () => {
  const cases: [string, { namespace: string; name: string } | undefined][] = [
    ["system:serviceaccount:default:foo", { namespace: "default", name: "foo" }],
    ["system:serviceaccount:ns:a.b-c", { namespace: "ns", name: "a.b-c" }],
    ["system:serviceaccount:ns", undefined],
    ["system:serviceaccount:ns:a:b", undefined],
    ["system:serviceaccount:NS:a", undefined],
    ["system:serviceaccount::a", undefined],
    ["system:serviceaccount:ns:", undefined],
    ["system:serviceaccount:ns:a..b", undefined],
    [`system:serviceaccount:${"n".repeat(64)}:a`, undefined],
    ["system:serviceaccounts:ns:a", undefined],
    ["alice", undefined],
  ];
  for (const [name, want] of cases) assertEquals(serviceAccountOf(name), want, name);
});
