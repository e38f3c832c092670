import { assert, assertEquals, assertThrows } from "../_utils/assert.ts";
import { KubeconfigError, parseKubeconfig } from "../../src/kube/mod.ts";

const FULL = `
apiVersion: v1
kind: Config
current-context: east
clusters:
- name: east
  cluster:
    server: https://east.example:6443
    certificate-authority: certs/ca.crt
    tls-server-name: api.east
    proxy-url: socks5://proxy:1080
    disable-compression: true
    extensions:
    - name: client.authentication.k8s.io/exec
      extension: {audience: east}
- name: west
  cluster:
    server: https://west.example
    certificate-authority-data: ${btoa("CA PEM")}
    insecure-skip-tls-verify: false
users:
- name: alice
  user:
    client-certificate-data: ${btoa("CERT")}
    client-key: /abs/key.pem
    as: bob
    as-uid: "42"
    as-groups: [dev, ops]
    as-user-extra: {scopes: [read, write]}
- name: robot
  user:
    tokenFile: token
    token: fallback
- name: sso
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: ./bin/login
      args: [get-token]
      env: [{name: A, value: "1"}]
      installHint: install login
      provideClusterInfo: true
      interactiveMode: Never
- name: path-plugin
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: kubelogin
contexts:
- name: east
  context: {cluster: east, user: alice, namespace: apps}
`;

Deno.test("parseKubeconfig() reads every supported field, decodes data and resolves relative paths", () => {
  const config = parseKubeconfig(FULL, "/home/me/.kube/config");
  assertEquals(config["current-context"], "east");
  assertEquals(config.currentContextFile, "/home/me/.kube/config");
  const east = config.clusters[0]!;
  assertEquals(east.file, "/home/me/.kube/config");
  assertEquals(east.value, {
    server: "https://east.example:6443",
    "certificate-authority": "/home/me/.kube/certs/ca.crt",
    "tls-server-name": "api.east",
    "proxy-url": "socks5://proxy:1080",
    "disable-compression": true,
    extensions: [{ name: "client.authentication.k8s.io/exec", extension: { audience: "east" } }],
  });
  assertEquals(config.clusters[1]!.value["certificate-authority-data"], "CA PEM");
  assertEquals(config.clusters[1]!.value["insecure-skip-tls-verify"], false);
  const [alice, robot, sso, pathPlugin] = config.users.map((u) => u.value);
  assertEquals(alice!["client-certificate-data"], "CERT");
  assertEquals(alice!["client-key"], "/abs/key.pem");
  assertEquals(alice!["as-user-extra"], { scopes: ["read", "write"] });
  assertEquals(robot!.tokenFile, "/home/me/.kube/token");
  assertEquals(sso!.exec?.command, "/home/me/.kube/bin/login");
  assertEquals(sso!.exec?.interactiveMode, "Never");
  // A bare command name is looked up in PATH, and v1beta1 defaults to IfAvailable.
  assertEquals(pathPlugin!.exec?.command, "kubelogin");
  assertEquals(pathPlugin!.exec?.interactiveMode, "IfAvailable");
  assertEquals(config.contexts[0]!.value, { cluster: "east", user: "alice", namespace: "apps" });
});

Deno.test("parseKubeconfig() accepts an empty file and JSON", () => {
  assertEquals(parseKubeconfig("", "/k").clusters, []);
  const json = JSON.stringify({ clusters: [{ name: "c", cluster: { server: "https://c" } }] });
  assertEquals(parseKubeconfig(json, "/k").clusters[0]!.value.server, "https://c");
});

Deno.test("parseKubeconfig() reports malformed YAML with file, line and column", () => {
  const error = assertThrows(
    () => parseKubeconfig("clusters:\n- name: a\n  cluster: {server: [\n", "/tmp/bad.yaml"),
    KubeconfigError,
  ) as KubeconfigError;
  assert(
    error.message.startsWith(`Invalid kubeconfig "/tmp/bad.yaml": not valid YAML at line `),
    error.message,
  );
  assert(/line \d+, column \d+/.test(error.message), error.message);
});

const fieldCases: [string, string, string][] = [
  ["clusters: {a: b}", "clusters must be a list", "clusters"],
  ["clusters:\n- cluster: {server: x}", "clusters[0].name is required", "clusters[0].name"],
  [
    "clusters:\n- name: a\n  cluster: {server: 6443}",
    "clusters[0].cluster.server must be a string",
    "",
  ],
  [
    "clusters:\n- name: a\n  cluster: {insecure-skip-tls-verify: yes please}",
    "must be true or false",
    "",
  ],
  [
    "users:\n- name: u\n  user: {client-key-data: '%%%'}",
    "users[0].user.client-key-data is not valid base64",
    "",
  ],
  [
    "users:\n- name: u\n  user: {as-groups: [1]}",
    "users[0].user.as-groups[0] must be a string",
    "",
  ],
  [
    "users:\n- name: u\n  user: {exec: {command: x, apiVersion: client.authentication.k8s.io/v1alpha1}}",
    `users[0].user.exec.apiVersion "client.authentication.k8s.io/v1alpha1" is not supported`,
    "",
  ],
  [
    "users:\n- name: u\n  user: {exec: {command: x, apiVersion: client.authentication.k8s.io/v1}}",
    "users[0].user.exec.interactiveMode is required for client.authentication.k8s.io/v1",
    "",
  ],
  [
    "contexts:\n- name: c\n- name: c",
    `contexts[1].name "c" is used twice in contexts`,
    "contexts[1].name",
  ],
];

for (const [yaml, message, field] of fieldCases) {
  Deno.test(`parseKubeconfig() names the field: ${message}`, () => {
    const error = assertThrows(
      () => parseKubeconfig(yaml, "/k/config"),
      KubeconfigError,
      message,
    ) as KubeconfigError;
    assertEquals(error.file, "/k/config");
    assert(error.message.startsWith(`Invalid kubeconfig "/k/config": `));
    if (field) assertEquals(error.field, field);
  });
}
