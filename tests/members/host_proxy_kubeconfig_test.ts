import { assertEquals } from "../_utils/assert.ts";
import { hostProxyKubeconfig } from "../../src/members/mod.ts";
import { type KubeconfigUser, parseKubeconfig } from "../../src/kube/mod.ts";

const HOST = {
  server: "https://host.example.com:6443/",
  "certificate-authority-data": "HOST CA",
  "tls-server-name": "kubernetes",
  "proxy-url": "http://proxy:3128",
};

function roundTrip(user: KubeconfigUser) {
  const text = hostProxyKubeconfig({
    host: HOST,
    clusters: ["east", "west"],
    userName: "admin@host",
    user,
    prefix: "via-",
  });
  return parseKubeconfig(text, "/k");
}

Deno.test("hostProxyKubeconfig() points each member's context at the host's aggregated entrance", () => {
  const config = roundTrip({ token: "t" });
  assertEquals(config.contexts.map((c) => [c.name, c.value.cluster, c.value.user]), [
    ["via-east", "via-east", "admin@host"],
    ["via-west", "via-west", "admin@host"],
  ]);
  assertEquals(config["current-context"], "via-east");
  const east = config.clusters[0]!.value;
  assertEquals(
    east.server,
    "https://host.example.com:6443/apis/proxy.mca.k8s.io/v1alpha1/clusters/east/proxy",
  );
  assertEquals(east["certificate-authority-data"], "HOST CA");
  assertEquals(east["tls-server-name"], "kubernetes");
  assertEquals(east["proxy-url"], "http://proxy:3128");
});

const users: Array<[string, KubeconfigUser]> = [
  ["a client certificate", { "client-certificate-data": "CERT", "client-key-data": "KEY" }],
  ["client certificate files", { "client-certificate": "/c.crt", "client-key": "/c.key" }],
  ["an exec plugin", {
    exec: {
      command: "kubelogin",
      args: ["get-token"],
      apiVersion: "client.authentication.k8s.io/v1",
      interactiveMode: "IfAvailable",
      provideClusterInfo: true,
    },
  }],
  ["an OIDC auth-provider", {
    "auth-provider": { name: "oidc", config: { "idp-issuer-url": "https://id", "client-id": "k" } },
  }],
  ["a token with impersonation", { token: "t", as: "bob", "as-groups": ["dev"] }],
];
for (const [what, user] of users) {
  Deno.test(`hostProxyKubeconfig() copies ${what} unchanged`, () => {
    const config = roundTrip(user);
    assertEquals(config.users.length, 1);
    assertEquals(config.users[0]!.name, "admin@host");
    assertEquals(config.users[0]!.value, user);
  });
}
