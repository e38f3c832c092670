import { assertEquals, assertRejects } from "../_utils/assert.ts";
import { KubeconfigError, parseKubeconfig, resolveClientConfig } from "../../src/kube/mod.ts";

const files: Record<string, string> = {
  "/k/ca.crt": "CA FROM FILE",
  "/k/cert.pem": "CERT FROM FILE",
  "/k/key.pem": "KEY FROM FILE",
  "/k/token": "file-token\n",
};
const readTextFile = (path: string) =>
  files[path] !== undefined
    ? Promise.resolve(files[path]!)
    : Promise.reject(new Deno.errors.NotFound("No such file or directory"));

const CONFIG = parseKubeconfig(
  `
current-context: main
clusters:
- name: main
  cluster: {server: "https://api.example:6443/prefix/", certificate-authority: ca.crt}
- name: bare
  cluster: {server: "10.0.0.1:6443"}
- name: insecure
  cluster: {server: "https://x", insecure-skip-tls-verify: true, tls-server-name: name.example}
- name: both
  cluster: {server: "https://x", insecure-skip-tls-verify: true, certificate-authority-data: ${
    btoa("CA")
  }}
- name: nocert
  cluster: {server: "https://x", certificate-authority: missing.crt}
- name: plugged
  cluster:
    server: https://plugged
    certificate-authority-data: ${btoa("PLUGGED CA")}
    extensions: [{name: client.authentication.k8s.io/exec, extension: {audience: a}}]
users:
- name: certs
  user: {client-certificate: cert.pem, client-key: key.pem, as: bob, as-groups: [g1], as-user-extra: {k: [v]}}
- name: rotating
  user: {tokenFile: token, token: initial}
- name: basic
  user: {username: u, password: p}
- name: conflicted
  user: {token: t, username: u}
- name: halfpair
  user: {client-certificate-data: ${btoa("C")}}
- name: sso
  user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: sso, interactiveMode: Never, provideClusterInfo: true}}
- name: gcp
  user: {auth-provider: {name: gcp}}
- name: oidc
  user: {auth-provider: {name: oidc, config: {id-token: the-id-token}}}
contexts:
- name: main
  context: {cluster: main, user: certs, namespace: apps}
- name: bare
  context: {cluster: bare, user: rotating}
- name: insecure
  context: {cluster: insecure, user: basic}
- name: both
  context: {cluster: both}
- name: nocert
  context: {cluster: nocert}
- name: ghost-cluster
  context: {cluster: ghost}
- name: ghost-user
  context: {cluster: main, user: ghost}
- name: conflicted
  context: {cluster: main, user: conflicted}
- name: halfpair
  context: {cluster: main, user: halfpair}
- name: sso
  context: {cluster: plugged, user: sso}
- name: gcp
  context: {cluster: main, user: gcp}
- name: oidc
  context: {cluster: main, user: oidc}
`,
  "/k/config",
);

Deno.test("resolveClientConfig() uses current-context and reads referenced files", async () => {
  const config = await resolveClientConfig(CONFIG, {}, readTextFile);
  assertEquals(config, {
    server: "https://api.example:6443/prefix",
    tls: {
      caPem: "CA FROM FILE",
      certPem: "CERT FROM FILE",
      keyPem: "KEY FROM FILE",
      insecureSkipVerify: false,
    },
    disableCompression: false,
    credentials: { type: "none" },
    impersonate: { user: "bob", groups: ["g1"], extra: { k: ["v"] } },
    namespace: "apps",
    source: `context "main" in "/k/config"`,
  });
});

Deno.test("resolveClientConfig() applies --context and --namespace and keeps the token as tokenFile fallback", async () => {
  const config = await resolveClientConfig(
    CONFIG,
    { context: "bare", namespace: "ns1" },
    readTextFile,
  );
  // No scheme and no TLS settings: plain http, as client-go decides.
  assertEquals(config.server, "http://10.0.0.1:6443");
  assertEquals(config.credentials, { type: "tokenFile", path: "/k/token", token: "file-token" });
  assertEquals(config.namespace, "ns1");
});

Deno.test("resolveClientConfig() resolves basic auth, tls-server-name and insecure-skip-tls-verify", async () => {
  const config = await resolveClientConfig(CONFIG, { context: "insecure" }, readTextFile);
  assertEquals(config.tls, { serverName: "name.example", insecureSkipVerify: true });
  assertEquals(config.credentials, { type: "basic", username: "u", password: "p" });
});

Deno.test("resolveClientConfig() passes cluster info to exec plugins that ask for it", async () => {
  const config = await resolveClientConfig(CONFIG, { context: "sso" }, readTextFile);
  assertEquals(config.credentials.type, "exec");
  if (config.credentials.type !== "exec") return;
  assertEquals(config.credentials.cluster, {
    server: "https://plugged",
    "certificate-authority-data": btoa("PLUGGED CA"),
    config: { audience: "a" },
  });
});

Deno.test("resolveClientConfig() sends an oidc auth-provider's id-token", async () => {
  const config = await resolveClientConfig(CONFIG, { context: "oidc" }, readTextFile);
  assertEquals(config.credentials, { type: "token", token: "the-id-token" });
});

const errorCases: [string, string, string][] = [
  ["nope", `context "nope" not found (contexts: "main"`, "--context"],
  [
    "ghost-cluster",
    `contexts["ghost-cluster"].context.cluster names cluster "ghost", which is not defined`,
    "",
  ],
  [
    "ghost-user",
    `contexts["ghost-user"].context.user names user "ghost", which is not defined`,
    "",
  ],
  ["nocert", `clusters["nocert"].cluster.certificate-authority: cannot read "/k/missing.crt"`, ""],
  ["both", "insecure-skip-tls-verify and a certificate authority cannot both be set", ""],
  ["conflicted", "a token and username/password cannot both be set", ""],
  ["halfpair", `users["halfpair"].user.client-key is required`, ""],
  ["gcp", `auth-provider "gcp" is not supported; use an exec credential plugin`, ""],
];

for (const [context, message, field] of errorCases) {
  Deno.test(`resolveClientConfig() explains context "${context}": ${message}`, async () => {
    const error = await assertRejects(
      () => resolveClientConfig(CONFIG, { context }, readTextFile),
      KubeconfigError,
      message,
    ) as KubeconfigError;
    assertEquals(error.file, "/k/config");
    if (field) assertEquals(error.field, field);
  });
}

Deno.test("resolveClientConfig() explains a missing current-context", async () => {
  const config = parseKubeconfig("contexts:\n- name: a\n  context: {cluster: a}", "/k/config");
  await assertRejects(
    () => resolveClientConfig(config, {}, readTextFile),
    KubeconfigError,
    `no context chosen: set current-context or pass --context (contexts: "a")`,
  );
});

Deno.test("resolveClientConfig() refuses a server URL with credentials or another scheme", async () => {
  for (
    const [server, message] of [["https://u:p@x", "must not carry credentials"], [
      "ftp://x",
      "must use https or http",
    ]]
  ) {
    const config = parseKubeconfig(
      `current-context: c\nclusters: [{name: c, cluster: {server: "${server}"}}]\ncontexts: [{name: c, context: {cluster: c}}]`,
      "/k/config",
    );
    const error = await assertRejects(
      () => resolveClientConfig(config, {}, readTextFile),
      KubeconfigError,
      message,
    );
    assertEquals(error.message.includes("u:p"), false, "no secret in the error");
  }
});
