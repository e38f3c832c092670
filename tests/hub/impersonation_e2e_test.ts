/**
 * Impersonation through the hub and the sidecar against real API servers: the hub answers each
 * variant of `Impersonate-*` headers as the host's kube-apiserver does, east sees the requested
 * identity mapped (never the agent), `kubectl --as` and `kubectl auth can-i --as` work and are
 * refused without impersonate rights, and the hub's JSON log names caller and member.
 */
import { assertEquals, assertStringIncludes } from "../_utils/assert.ts";
import { e2eTest, kubectl, kubectlOk, uniqueName } from "../_utils/e2e.ts";
import { tempDir } from "../_utils/temp_dir.ts";
import { rawExchange } from "../_utils/raw_tls.ts";
import { startSidecarProxy } from "../_utils/sidecar_proxy.ts";
import { waitFor } from "../../src/common/mod.ts";
import { renderKubeconfig } from "../../src/kube/mod.ts";
import type { TestCluster, TestEnv } from "../../src/testenv/mod.ts";
import { startHubFixture } from "../_utils/hub_fixture.ts";

const REVIEW = '{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}';
const REVIEW_PATH = "/apis/authentication.k8s.io/v1/selfsubjectreviews";

/** What a member's SelfSubjectReview reports. */
interface SeenUser {
  username: string;
  groups?: string[];
  uid?: string;
  extra?: Record<string, string[]>;
}

/** One header combination, sent by `caller`; `east` is who east sees when the host allows it. */
interface Variant {
  name: string;
  caller?: "alice" | "mallory";
  headers: [string, string][];
  east?: SeenUser | ((ns: string) => SeenUser);
}

const BOB = { username: "bob", groups: ["system:authenticated"] };

const VARIANTS: Variant[] = [
  { name: "no impersonation", headers: [] },
  { name: "a user", headers: [["Impersonate-User", "bob"]], east: BOB },
  {
    name: "names in any case, with a group",
    headers: [["impersonate-user", "bob"], ["IMPERSONATE-GROUP", "devs"]],
    east: { username: "bob", groups: ["devs", "system:authenticated"] },
  },
  {
    name: "a group not allowed",
    headers: [["Impersonate-User", "bob"], ["Impersonate-Group", "system:masters"]],
  },
  {
    name: "repeated users: the first counts",
    headers: [["Impersonate-User", "bob"], ["Impersonate-User", "system:admin"]],
    east: BOB,
  },
  {
    name: "repeated users: a denied first",
    headers: [["Impersonate-User", "system:admin"], ["Impersonate-User", "bob"]],
  },
  {
    name: "repeated groups, one denied",
    headers: [
      ["Impersonate-User", "bob"],
      ["Impersonate-Group", "devs"],
      ["Impersonate-Group", "system:masters"],
    ],
  },
  { name: "a group without a user", headers: [["Impersonate-Group", "devs"]] },
  { name: "a uid alone", headers: [["Impersonate-Uid", "u-1"]] },
  { name: "an extra alone", headers: [["Impersonate-Extra-Scopes", "view"]] },
  {
    name: "a user with a uid",
    headers: [["Impersonate-User", "bob"], ["Impersonate-Uid", "u-1"]],
    east: { ...BOB, uid: "u-1" },
  },
  { name: "a uid not allowed", headers: [["Impersonate-User", "bob"], ["Impersonate-Uid", "u-2"]] },
  {
    name: "an extra",
    headers: [["Impersonate-User", "bob"], ["Impersonate-Extra-Scopes", "view"]],
    east: { ...BOB, extra: { scopes: ["view"] } },
  },
  {
    name: "an extra value not allowed",
    headers: [["Impersonate-User", "bob"], ["Impersonate-Extra-Scopes", "admin"]],
  },
  {
    name: "an extra key with capitals and an escaped slash",
    headers: [["Impersonate-User", "bob"], ["Impersonate-Extra-Example.COM%2fTeam", "a"]],
    east: { ...BOB, extra: { "example.com/team": ["a"] } },
  },
  {
    name: "an extra key that does not decode",
    headers: [["Impersonate-User", "bob"], ["Impersonate-Extra-Scopes%zz", "view"]],
  },
  {
    name: "a ServiceAccount, prefixed on east with its groups",
    headers: [["Impersonate-User", "system:serviceaccount:NS:robot"]],
    east: (ns) => ({
      username: `mca:host:system:serviceaccount:${ns}:robot`,
      groups: [
        "mca:host:system:serviceaccounts",
        `mca:host:system:serviceaccounts:${ns}`,
        "system:authenticated",
      ],
    }),
  },
  { name: "a privileged user", headers: [["Impersonate-User", "system:admin"]] },
  {
    name: "a caller without impersonate rights",
    caller: "mallory",
    headers: [["Impersonate-User", "bob"]],
  },
];

/** Host RBAC: alice may impersonate some identities; those (not carol) may reach the member. */
async function hostUsers(host: TestCluster, member: string, ns: string) {
  await kubectlOk(host, ["create", "namespace", ns]);
  for (const name of ["alice", "mallory", "robot"]) {
    await kubectlOk(host, ["create", "serviceaccount", name, "-n", ns]);
  }
  const impersonate = (group: string, resources: string[], names?: string[]) => ({
    apiGroups: [group],
    resources,
    verbs: ["impersonate"],
    ...(names ? { resourceNames: names } : {}),
  });
  const auth = "authentication.k8s.io";
  const sa = (name: string) => ({ kind: "ServiceAccount", name, namespace: ns });
  const objects = [
    clusterRole(`${ns}-impersonate`, [
      impersonate("", ["users"], ["bob", "carol"]),
      impersonate("", ["groups"], ["devs"]),
      impersonate("", ["serviceaccounts"], ["robot"]),
      impersonate(auth, ["userextras/scopes"], ["view"]),
      impersonate(auth, ["userextras/example.com/team"]),
      impersonate(auth, ["uids"], ["u-1"]),
    ]),
    clusterRoleBinding(`${ns}-impersonate`, [sa("alice")]),
    clusterRole(`${ns}-reach`, [{
      apiGroups: ["mca.k8s.io"],
      resources: ["clusters/proxy"],
      resourceNames: [member],
      verbs: ["get", "list", "create"],
    }]),
    clusterRoleBinding(`${ns}-reach`, [
      sa("alice"),
      sa("mallory"),
      sa("robot"),
      { kind: "User", name: "bob", apiGroup: "rbac.authorization.k8s.io" },
      { kind: "Group", name: "devs", apiGroup: "rbac.authorization.k8s.io" },
    ]),
  ];
  await kubectlOk(host, ["apply", "-f", "-"], {
    stdin: JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }),
  });
  const token = async (name: string) =>
    (await kubectlOk(host, ["create", "token", name, "-n", ns])).trim();
  return { alice: await token("alice"), mallory: await token("mallory") };
}

function clusterRole(name: string, rules: unknown[]) {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRole",
    metadata: { name },
    rules,
  };
}

function clusterRoleBinding(name: string, subjects: unknown[]) {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRoleBinding",
    metadata: { name },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name },
    subjects,
  };
}

/** POSTs a SelfSubjectReview with exactly these header lines; the answer's code and user. */
async function review(
  server: { url: string; caPem: string; prefix: string },
  token: string,
  headers: [string, string][],
): Promise<{ status: number; user?: SeenUser; body: string }> {
  const { host } = new URL(server.url);
  const lines = headers.map(([name, value]) => `${name}: ${value}\r\n`).join("");
  const answer = await rawExchange(
    server.url,
    server.caPem,
    `POST ${server.prefix}${REVIEW_PATH} HTTP/1.1\r\nHost: ${host}\r\n` +
      `Authorization: Bearer ${token}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${REVIEW.length}\r\n${lines}Connection: close\r\n\r\n${REVIEW}`,
  );
  const user = answer.status === 201 ? JSON.parse(answer.body).status.userInfo : undefined;
  return { status: answer.status, user, body: answer.body };
}

e2eTest(
  "impersonation through the hub: allowed exactly as the host's kube-apiserver allows it, mapped on east, logged",
  async (env) => {
    const host = env.cluster("host");
    const east = env.cluster("east");
    await using dir = await tempDir();
    const fixture = await startHubFixture(env, dir.path, { hubArgs: ["--log-format=json"] });
    try {
      // The default mapping (the fixture otherwise lets the host admin through as admin).
      const member = await fixture.registerMember(east, { identityMapping: {} });
      await fixture.connectAgent(member);
      const ns = uniqueName("imp");
      const tokens = await hostUsers(host, member, ns);
      const direct = { url: host.url, caPem: host.caPem, prefix: "" };
      const viaHub = {
        url: fixture.hub.url,
        caPem: fixture.hub.caPem,
        prefix: `/clusters/${member}`,
      };
      for (const variant of VARIANTS) {
        const token = tokens[variant.caller ?? "alice"];
        const headers = variant.headers.map(([name, value]): [string, string] => [
          name,
          value.replace(":NS:", `:${ns}:`),
        ]);
        const expected = await review(direct, token, headers);
        const got = await review(viaHub, token, headers);
        assertEquals(got.status, expected.status, `${variant.name}: ${got.body}`);
        if (!variant.east) continue;
        assertEquals(expected.status, 201, variant.name);
        const seen = typeof variant.east === "function" ? variant.east(ns) : variant.east;
        assertEquals(got.user, seen, variant.name);
      }
      // Without impersonation east sees alice, prefixed: a host ServiceAccount never acts as
      // east's own.
      const plain = await review(viaHub, tokens.alice, []);
      assertEquals(plain.user?.username, `mca:host:system:serviceaccount:${ns}:alice`);
      // carol may be impersonated on the host but may not reach the member: the hub asks
      // clusters/proxy for the identity the request acts as.
      const carol = await review(viaHub, tokens.alice, [["Impersonate-User", "carol"]]);
      assertEquals(carol.status, 403);
      assertStringIncludes(carol.body, `user \\"carol\\" cannot create clusters/proxy`);
      assertEquals(
        (await review(direct, tokens.alice, [["Impersonate-User", "carol"]])).status,
        201,
      );

      // The host admin's group system:masters is never passed by default.
      const admin = await review(viaHub, host.adminToken, []);
      assertEquals(admin.status, 201, admin.body);
      assertEquals(admin.user?.groups?.includes("system:masters"), false, admin.body);
      const adminOnHost = await review(direct, host.adminToken, []);
      assertEquals(adminOnHost.user?.groups?.includes("system:masters"), true);
      assertEquals(admin.user?.username, adminOnHost.user?.username);

      await assertLoggedRequest(fixture.hub.process.logPath, { member, ns });
      await kubectlThroughHub(env, { hub: fixture.hub, member, ns, tokens, dir: dir.path });
      await kubectlThroughSidecar(env, {
        hubUrl: fixture.hub.url,
        hubCaFile: fixture.hubCaFile,
        member,
        ns,
        dir: dir.path,
      });
      // Last: it changes how east sees everyone.
      const bobInDevs: [string, string][] = [["Impersonate-User", "bob"], [
        "Impersonate-Group",
        "devs",
      ]];
      await assertPrefixes(host, member, () => review(viaHub, tokens.alice, bobInDevs));
    } finally {
      await fixture.stop();
    }
  },
);

/** The Cluster's user and group prefixes apply within the hub's cache time; none may be system:. */
async function assertPrefixes(
  host: TestCluster,
  member: string,
  bobInDevs: () => Promise<{ user?: SeenUser }>,
) {
  const patch = (mapping: Record<string, unknown>) =>
    kubectl(host, [
      "patch",
      "clusters.mca.k8s.io",
      member,
      "--type=merge",
      `--patch=${JSON.stringify({ spec: { identityMapping: mapping } })}`,
    ]);
  const refused = await patch({ userPrefix: "system:" });
  assertEquals(refused.code, 1);
  assertStringIncludes(refused.stderr, 'a prefix must not start with "system:"');
  assertEquals((await patch({ userPrefix: "host:", groupPrefix: "host:" })).code, 0);
  const want = { username: "host:bob", groups: ["host:devs", "system:authenticated"] };
  await waitFor(async () => JSON.stringify((await bobInDevs()).user) === JSON.stringify(want), {
    description: "east to see the prefixed user and group",
  });
}

/** The hub's JSON log holds an info line naming caller, impersonated user, member user, cluster. */
async function assertLoggedRequest(
  logPath: string,
  { member, ns }: { member: string; ns: string },
) {
  const lines = (await Deno.readTextFile(logPath)).split("\n").filter((l) => l.startsWith("{"));
  const logged = lines.map((line) => JSON.parse(line)).find((line) =>
    line.msg === "request" && line.impersonating === "bob" && line.cluster === member
  );
  assertEquals(logged?.level, "info");
  assertEquals(logged?.user, `system:serviceaccount:${ns}:alice`);
  assertEquals(logged?.memberUser, "bob");
  assertEquals(logged?.path, REVIEW_PATH);
  assertEquals(logged?.code, 201);
  for (const line of lines) {
    if (line.includes("eyJ")) throw new Error(`A token in the hub's log: ${line}`);
  }
}

/** `kubectl --as` and `auth can-i --as` against the hub with alice's and mallory's tokens. */
async function kubectlThroughHub(
  env: TestEnv,
  options: {
    hub: { url: string; caPem: string };
    member: string;
    ns: string;
    tokens: { alice: string; mallory: string };
    dir: string;
  },
) {
  const east = env.cluster("east");
  const { hub, member, ns, tokens, dir } = options;
  // On east, bob may read ConfigMaps in the namespace.
  await kubectlOk(east, ["create", "namespace", ns]);
  await kubectlOk(east, [
    "create",
    "role",
    "reader",
    "-n",
    ns,
    "--verb=get,list",
    "--resource=configmaps",
  ]);
  await kubectlOk(east, ["create", "rolebinding", "bob", "-n", ns, "--role=reader", "--user=bob"]);
  const kubeconfig = async (name: "alice" | "mallory") => {
    const path = `${dir}/${name}-hub.kubeconfig`;
    await Deno.writeTextFile(
      path,
      renderKubeconfig([{
        name: "east",
        server: `${hub.url}/clusters/${member}`,
        caPem: hub.caPem,
        user: { token: tokens[name] },
      }]),
    );
    return path;
  };
  const alice = await kubeconfig("alice");
  const mallory = await kubeconfig("mallory");
  const whoami = ["auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"];
  assertEquals(await kubectlOk(alice, ["--as=bob", ...whoami]), "bob");
  assertEquals(
    await kubectlOk(alice, [`--as=system:serviceaccount:${ns}:robot`, ...whoami]),
    `mca:host:system:serviceaccount:${ns}:robot`,
  );
  assertEquals(
    (await kubectlOk(alice, ["--as=bob", "auth", "can-i", "get", "configmaps", "-n", ns])).trim(),
    "yes",
  );
  const cannot = await kubectl(alice, [
    "--as=bob",
    "auth",
    "can-i",
    "delete",
    "configmaps",
    "-n",
    ns,
  ]);
  assertEquals([cannot.code, cannot.stdout.trim()], [1, "no"]);
  // kubectl auth whoami hides a 403 ("not enabled ... or you do not have permission"): get shows it.
  const refused = await kubectl(mallory, ["--as=bob", "get", "configmaps", "-n", ns]);
  assertEquals(refused.code, 1);
  assertStringIncludes(refused.stderr, `cannot impersonate users "bob"`);
  const canI = await kubectl(mallory, ["--as=bob", "auth", "can-i", "get", "configmaps", "-n", ns]);
  assertEquals(canI.code, 1);
  assertStringIncludes(canI.stderr, `cannot impersonate users "bob"`);
}

/**
 * Through a sidecar: whoami and ConfigMaps go to east through the hub, can-i to the home cluster; the app's
 * ServiceAccount may impersonate (cluster-admin) in one pod and not (view) in the other. A
 * kubeconfig cluster gets the app's impersonation only when it opts in.
 */
async function kubectlThroughSidecar(
  env: TestEnv,
  options: { hubUrl: string; hubCaFile: string; member: string; ns: string; dir: string },
) {
  const host = env.cluster("host");
  const east = env.cluster("east");
  const { hubUrl, hubCaFile, member, ns, dir } = options;
  await kubectlOk(host, [
    "create",
    "role",
    "reader",
    "-n",
    ns,
    "--verb=get",
    "--resource=configmaps",
  ]);
  await kubectlOk(host, ["create", "rolebinding", "bob", "-n", ns, "--role=reader", "--user=bob"]);
  // Self reviews stay home unless a rule names them.
  const SSR = "selfsubjectreviews.authentication.k8s.io";
  const config = `
clusters:
  far: {via: hub, hub: "${hubUrl}", cluster: ${member}, caFile: ${hubCaFile}}
  plain: {kubeconfig: ${east.kubeconfigPath}}
  passing: {kubeconfig: ${east.kubeconfigPath}, passImpersonation: true}
routes:
- {name: plain, match: {resources: [${SSR}], headers: {x-route: plain}}, cluster: plain}
- {name: passing, match: {resources: [${SSR}], headers: {x-route: passing}}, cluster: passing}
- {name: whoami-far, match: {resources: [${SSR}]}, cluster: far}
- {name: configmaps-far, match: {resources: [configmaps]}, cluster: far}
`;
  const whoami = ["auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"];
  const canI = ["auth", "can-i", "get", "configmaps", "-n", ns];
  for (const [role, allowed] of [["cluster-admin", true], ["view", false]] as const) {
    const podDir = `${dir}/sidecar-${role}`;
    await Deno.mkdir(podDir);
    const proxy = await startSidecarProxy(env, podDir, config, { clusterRole: role });
    try {
      // The pod's ServiceAccount needs clusters/proxy too, to reach east as itself.
      await kubectlOk(host, [
        "create",
        "clusterrolebinding",
        `${proxy.namespace}-reach`,
        `--clusterrole=${ns}-reach`,
        `--serviceaccount=${proxy.namespace}:app`,
      ]);
      const app = proxy.kubeconfigPath;
      if (allowed) {
        await waitFor(async () => (await kubectl(app, ["--as=bob", ...whoami])).stdout === "bob", {
          description: "bob to reach east through the sidecar and the hub",
        });
        await kubectlOk(app, ["--as=bob", "get", "configmaps", "-n", ns]);
        assertEquals((await kubectlOk(app, ["--as=bob", ...canI])).trim(), "yes");
        const carol = await kubectl(app, ["--as=carol", ...canI]);
        assertEquals([carol.code, carol.stdout.trim()], [1, "no"]);
        await assertKubeconfigOptIn(proxy);
      } else {
        // --raw skips discovery, which stays home (and which the home API server refuses too).
        const far = await kubectl(app, [
          "--as=bob",
          "get",
          "--raw",
          `/api/v1/namespaces/${ns}/configmaps`,
        ]);
        assertEquals(far.code, 1);
        assertStringIncludes(far.stderr, `cannot impersonate users "bob"`);
        const home = await kubectl(app, ["--as=bob", ...canI]);
        assertEquals(home.code, 1);
        assertStringIncludes(home.stderr, `cannot impersonate resource "users"`);
      }
    } finally {
      await proxy.stop();
    }
  }
}

/** A kubeconfig cluster sees the app's impersonation only with passImpersonation. */
async function assertKubeconfigOptIn(proxy: { url: string; caPem: string; token: string }) {
  for (const [route, want] of [["plain", "kubernetes-admin"], ["passing", "bob"]]) {
    const answer = await rawExchange(
      proxy.url,
      proxy.caPem,
      `POST ${REVIEW_PATH} HTTP/1.1\r\nHost: sidecar\r\nAuthorization: Bearer ${proxy.token}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${REVIEW.length}\r\nx-route: ${route}\r\n` +
        `Impersonate-User: bob\r\nConnection: close\r\n\r\n${REVIEW}`,
    );
    assertEquals(answer.status, 201, answer.body);
    const username = JSON.parse(answer.body).status.userInfo.username;
    if (route === "passing") assertEquals(username, want);
    else {assertEquals(
        username === "bob",
        false,
        `the plain cluster saw ${username} (${JSON.stringify(answer.headers)})`,
      );}
  }
}
