import { assertEquals, assertStringIncludes, assertThrows } from "../_utils/assert.ts";
import {
  bodyMetadata,
  decideRoute,
  explainRoute,
  parseProxyConfig,
  parseRequestInfo,
  type ProxyConfig,
  ProxyConfigError,
} from "../../src/proxy/mod.ts";

const CONFIG: ProxyConfig = parseProxyConfig(
  `
apiVersion: mca.k8s.io/v1alpha1
kind: ProxyConfig
clusters:
  east: {kubeconfig: /k, context: east}
  west: {kubeconfig: /k, context: west, timeout: 3s}
routes:
- name: west-namespaces
  match: {namespaces: ["west-*"]}
  cluster: west
- name: east-label
  match: {labels: "region=east"}
  cluster: east
- name: team-header
  match: {headers: {X-Team: blue}, verbs: [list]}
  cluster: east
- name: leases-east
  match: {resources: [leases.coordination.k8s.io], namespaces: [elect-east]}
  cluster: east
`,
  "config.yaml",
);

function route(
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string>; type?: string } = {},
) {
  const url = new URL(path, "https://x.invalid");
  const info = parseRequestInfo(method, url.pathname, url.search);
  const body = options.body === undefined ? undefined : bodyMetadata(
    new TextEncoder().encode(JSON.stringify(options.body)),
    options.type ?? "application/json",
  );
  return decideRoute(CONFIG, {
    info,
    header: (name) => options.headers?.[name] ?? null,
    ...(body ? { body } : {}),
  });
}

Deno.test("decideRoute(): objects go where their labels, namespace or pin say; others to the default", () => {
  const create = (labels: Record<string, string>, ns = "shop") =>
    route("POST", `/api/v1/namespaces/${ns}/configmaps`, {
      body: { metadata: { name: "c", labels } },
    });
  assertEquals(create({ region: "east" }), {
    type: "cluster",
    cluster: "east",
    reason: 'route "east-label"',
    route: "east-label",
  });
  assertEquals(create({}, "west-1").type === "cluster" && create({}, "west-1"), {
    type: "cluster",
    cluster: "west",
    reason: 'route "west-namespaces"',
    route: "west-namespaces",
  });
  assertEquals(create({}), {
    type: "cluster",
    cluster: "home",
    reason: "no route matched: default",
  });
  assertEquals(create({ "mca.k8s.io/cluster": "west", region: "east" }), {
    type: "cluster",
    cluster: "west",
    reason: "pinned by the label mca.k8s.io/cluster",
  });
  const unknown = create({ "mca.k8s.io/cluster": "mars" });
  assertEquals(unknown.type, "reject");
});

Deno.test("decideRoute(): labels in patches of every kind count", () => {
  const merge = route("PATCH", "/api/v1/namespaces/shop/configmaps/c", {
    body: { metadata: { labels: { region: "east" } } },
    type: "application/merge-patch+json",
  });
  assertEquals(merge.type === "cluster" && merge.cluster, "east");
  const json = route("PATCH", "/api/v1/namespaces/shop/configmaps/c", {
    body: [{ op: "add", path: "/metadata/labels/region", value: "east" }],
    type: "application/json-patch+json",
  });
  assertEquals(json.type === "cluster" && json.cluster, "east");
});

Deno.test("decideRoute(): a named object without labels in the request is looked up, the likely cluster last", () => {
  const get = route("GET", "/api/v1/namespaces/shop/configmaps/c");
  assertEquals(get.type, "lookup");
  if (get.type === "lookup") assertEquals(get.candidates, ["east", "west", "home"]);
  const exec = route("POST", "/api/v1/namespaces/shop/pods/p/exec");
  assertEquals(exec.type, "lookup");
  // A definitive route needs no lookup.
  assertEquals(route("GET", "/api/v1/namespaces/west-1/configmaps/c").type, "cluster");
});

Deno.test("decideRoute(): collections and cluster-scoped objects follow routes and the default", () => {
  assertEquals(route("GET", "/api/v1/namespaces/shop/configmaps").type === "cluster", true);
  assertEquals(route("GET", "/api/v1/namespaces/shop"), {
    type: "cluster",
    cluster: "home",
    reason: "no route matched: default",
  });
  const byHeader = route("GET", "/api/v1/namespaces/shop/configmaps", {
    headers: { "x-team": "blue" },
  });
  assertEquals(byHeader.type === "cluster" && byHeader.cluster, "east");
});

Deno.test("decideRoute(): discovery, leases and self-reviews stay home unless a route names them", () => {
  assertEquals(route("GET", "/apis").type === "cluster" && route("GET", "/apis"), {
    type: "cluster",
    cluster: "home",
    reason: "discovery and non-resource paths stay home",
  });
  const lease = route("PUT", "/apis/coordination.k8s.io/v1/namespaces/shop/leases/lock", {
    body: { metadata: { name: "lock", labels: { region: "east", "mca.k8s.io/cluster": "west" } } },
  });
  assertEquals(lease.type === "cluster" && lease.cluster, "home");
  const named = route("GET", "/apis/coordination.k8s.io/v1/namespaces/elect-east/leases/lock");
  assertEquals(named.type === "cluster" && named.cluster, "east");
  const review = route("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", {
    body: { metadata: { labels: { region: "east" } } },
  });
  assertEquals(review.type === "cluster" && review.cluster, "home");
});

const badConfigs: [string, string][] = [
  [
    "routes:\n- match: {}\n  cluster: mars",
    `routes[0].cluster "mars" is not a defined cluster (clusters: home)`,
  ],
  [
    "clusters:\n  a: {}",
    "clusters.a needs exactly one of inCluster: true, kubeconfig, or via: hub",
  ],
  ["clusters:\n  A: {inCluster: true}", "clusters.A: a cluster name must be a DNS label"],
  [
    "routes:\n- match: {labels: 'a in b'}\n  cluster: home",
    "routes[0].match.labels: Invalid label selector",
  ],
  [
    "routes:\n- match: {verbs: [fly]}\n  cluster: home",
    `routes[0].match.verbs: unknown verb "fly"`,
  ],
  [
    "routes:\n- match: {namespace: [a]}\n  cluster: home",
    `routes[0].match: unknown field "namespace"`,
  ],
  ["default: nowhere", `default "nowhere" is not a defined cluster`],
  [
    "clusters:\n  far: {via: hub, hub: http://hub, cluster: far}",
    "clusters.far.hub must be an https:// URL",
  ],
  ["clusters:\n  b: {kubeconfig: /k, timeout: soon}", `Invalid clusters.b.timeout "soon"`],
  ["routes: [", "not valid YAML"],
  [
    "clusters:\n  b: {kubeconfig: /k, passImpersonation: 'yes'}",
    "clusters.b.passImpersonation must be true or false",
  ],
];

for (const [text, message] of badConfigs) {
  Deno.test(`parseProxyConfig() names the field: ${message}`, () => {
    const error = assertThrows(
      () => parseProxyConfig(text, "/etc/mca/proxy/config.yaml"),
      ProxyConfigError,
    );
    assertStringIncludes(error.message, `Invalid proxy config "/etc/mca/proxy/config.yaml": `);
    assertStringIncludes(error.message, message);
  });
}

Deno.test("parseProxyConfig() reads relative kubeconfig and caFile paths beside the config file, and passImpersonation", () => {
  const config = parseProxyConfig(
    [
      "clusters:",
      "  east: {kubeconfig: kubeconfigs/east, context: east}",
      "  west: {kubeconfig: /abs/west, passImpersonation: false}",
      "  lab: {kubeconfig: /abs/lab, passImpersonation: true}",
      "  far: {via: hub, hub: https://hub, cluster: far, caFile: hub-ca.crt}",
    ].join("\n"),
    "/etc/mca/proxy/config.yaml",
  );
  assertEquals(config.clusters.east, {
    type: "kubeconfig",
    kubeconfig: "/etc/mca/proxy/kubeconfigs/east",
    context: "east",
    timeoutMs: 10_000,
  });
  assertEquals(config.clusters.west, {
    type: "kubeconfig",
    kubeconfig: "/abs/west",
    timeoutMs: 10_000,
  });
  assertEquals(config.clusters.lab, {
    type: "kubeconfig",
    kubeconfig: "/abs/lab",
    timeoutMs: 10_000,
    passImpersonation: true,
  });
  assertEquals(config.clusters.far, {
    type: "hub",
    hub: "https://hub",
    cluster: "far",
    caFile: "/etc/mca/proxy/hub-ca.crt",
    timeoutMs: 10_000,
  });
});

Deno.test("explainRoute() says which rule and cluster, in plain words", () => {
  const text = explainRoute(CONFIG, {
    method: "POST",
    path: "/api/v1/namespaces/shop/configmaps",
    body: JSON.stringify({ metadata: { name: "c", labels: { region: "east" } } }),
  });
  assertEquals(
    text,
    'request:  POST /api/v1/namespaces/shop/configmaps (create configmaps in namespace "shop")\n' +
      'labels:   region=east\ncluster:  east\nbecause:  route "east-label"\n',
  );
  assertStringIncludes(
    explainRoute(CONFIG, { method: "GET", path: "/api/v1/namespaces/shop/pods/p" }),
    "the one among east, west, home",
  );
});

Deno.test("verbs routes and explain see every spelling of watch=true as a watch", () => {
  const config = parseProxyConfig(
    `
clusters:
  east: {kubeconfig: /k, context: east}
  west: {kubeconfig: /k, context: west}
routes:
- name: watches-east
  match: {verbs: [watch]}
  cluster: east
- name: merged
  match: {resources: [configmaps]}
  clusters: [east, west]
`,
    "config.yaml",
  );
  for (const value of ["true", "True", "TRUE", "1", "t", "T", "", "yes"]) {
    const path = `/api/v1/namespaces/shop/pods?watch=${value}`;
    const url = new URL(path, "https://x.invalid");
    const decision = decideRoute(config, {
      info: parseRequestInfo("GET", url.pathname, url.search),
      header: () => null,
    });
    assertEquals(decision.type === "cluster" && decision.cluster, "east", path);
    assertStringIncludes(explainRoute(config, { method: "GET", path }), "(watch pods");
    assertStringIncludes(
      explainRoute(config, { method: "GET", path: `/api/v1/configmaps?watch=${value}` }),
      "(watch configmaps",
    );
  }
  for (const value of ["false", "False", "0"]) {
    const path = `/api/v1/namespaces/shop/pods?watch=${value}`;
    assertStringIncludes(explainRoute(config, { method: "GET", path }), "(list pods");
  }
});
