/**
 * The aggregated entrance end to end: the chart's hub pods registered as the APIService
 * `v1alpha1.proxy.mca.k8s.io` on host, an agent on east, and kubectl with host credentials of
 * any kind (the admin's client certificate, ServiceAccount tokens) reaching east through the
 * host API server, which authenticates the caller, authorizes it, and writes the audit log.
 */
import { assert, assertEquals, assertStringIncludes } from "../_utils/assert.ts";
import { e2eTest, kubectl, kubectlOk, sharedFixture, uniqueName } from "../_utils/e2e.ts";
import { startKubectl } from "../_utils/kubectl_session.ts";
import { installAgent, installMcaChart, viaHostApiKubeconfig } from "../_utils/mca_chart.ts";
import { apply, waitForPhase } from "../_utils/pods.ts";
import {
  clientGoBinary,
  PYTHON_CLIENT,
  pythonWithKubernetes,
  runClient,
  startClient,
} from "../_utils/real_clients.ts";
import {
  createProgramsConfigMap,
  programContainer,
  PROGRAMS_VOLUME,
} from "../pods/_pod_programs.ts";
import { waitFor } from "../../src/common/mod.ts";
import type { TestEnv } from "../../src/testenv/mod.ts";

const API_SERVICE = "v1alpha1.proxy.mca.k8s.io";
const PROXY_PATH = "/apis/proxy.mca.k8s.io/v1alpha1/clusters/east/proxy";

/** The chart and east's agent, the APIService available, and a namespace on east with a pod. */
const fixture = sharedFixture("mca-aggregated-", async (env: TestEnv, dir: string) => {
  const east = env.cluster("east");
  const { hubUrl, hubCaPem } = await installMcaChart(env);
  await installAgent(env, "east");
  const ns = uniqueName("aggregated");
  await kubectlOk(east, ["create", "namespace", ns]);
  // The member's own RBAC for the host admin as the agent presents it (a user of its own name).
  await kubectlOk(east, [
    "create",
    "clusterrolebinding",
    `${ns}-host-admin`,
    "--clusterrole=cluster-admin",
    "--user=mca-admin-cert",
  ]);
  await kubectlOk(east, ["wait", "-n", ns, "--for=create", "serviceaccount/default"]);
  await createProgramsConfigMap(east, ns);
  await apply(east, {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "target", namespace: ns },
    spec: {
      terminationGracePeriodSeconds: 1,
      volumes: [PROGRAMS_VOLUME],
      containers: [programContainer(env.images!.deno.ref, "main", "stream_target.ts")],
    },
  });
  await waitForPhase(east, ns, "target", "Running", 120_000);
  // The host admin's own kubeconfig (client certificate), through `mca kubeconfig`.
  const viaHost = await viaHostApiKubeconfig(env, dir, ["east"]);
  return { ns, viaHost, hubUrl, hubCaPem };
});

e2eTest(
  "through the host API server: the APIService is Available and discovery stays whole",
  async (env) => {
    const host = env.cluster("host");
    await fixture(env);
    const resources = await kubectl(host, ["api-resources"]);
    assertEquals(resources.code, 0, `kubectl api-resources:\n${resources.stderr}`);
    assertStringIncludes(await kubectlOk(host, ["api-versions"]), "proxy.mca.k8s.io/v1alpha1");
    const group = JSON.parse(
      await kubectlOk(host, ["get", "--raw", "/apis/proxy.mca.k8s.io/v1alpha1"]),
    );
    assertEquals(group.resources.map((r: { name: string }) => r.name), ["clusters/proxy"]);
    // The Cluster CRD keeps the short name "clusters".
    assertStringIncludes(
      await kubectlOk(host, ["get", "clusters", "-o", "name"]),
      "cluster.mca.k8s.io/east",
    );
    const caBundle = await kubectlOk(host, [
      "get",
      "apiservice",
      API_SERVICE,
      "-o",
      "jsonpath={.spec.caBundle}",
    ]);
    assert(caBundle.length > 0, "the hub set the APIService's caBundle");
    // The host's aggregated OpenAPI documents stay whole, and its aggregator took the hub's
    // (empty) ones: a 404 would show as "resource not found" in its log, retried forever.
    for (const path of ["/openapi/v2", "/openapi/v3"]) {
      const openapi = await kubectl(host, ["get", "--raw", path]);
      assertEquals(openapi.code, 0, `${path}: ${openapi.stderr}`);
    }
    const notFound = (await Deno.readTextFile(host.logPath)).split("\n").filter((line) =>
      line.includes(API_SERVICE) && line.includes("resource not found")
    );
    assertEquals(notFound, [], "the API server fetched the hub's OpenAPI documents");
  },
  { nodes: true },
);

e2eTest(
  "client-go and the Python client create, read, list and watch on east through the host API server",
  async (env) => {
    const east = env.cluster("east");
    const { ns, viaHost } = await fixture(env);
    const clientGo = await clientGoBinary();
    const python = await pythonWithKubernetes();
    // client-go's watch prints each event until its stdin closes.
    const watch = startClient(clientGo, [viaHost, "watch", ns]);
    try {
      for (
        const [name, run] of [
          ["client-go", (args: string[]) => runClient(clientGo, [viaHost, ...args])],
          ["python", (args: string[]) => runClient(python, [PYTHON_CLIENT, viaHost, ...args])],
        ] as const
      ) {
        const object = uniqueName(`by-${name}`);
        assertEquals(
          (await run(["create", ns, object, "via=aggregated"])).trim(),
          `created ${object}`,
        );
        assertEquals(JSON.parse(await run(["get", ns, object])), { writer: name });
        assert((await run(["list", ns])).split("\n").includes(object), `${name} lists ${object}`);
        // Really on east: its own API server has it.
        await kubectlOk(east, ["get", "configmap", object, "-n", ns]);
        await watch.waitFor(
          (output) => output.includes(`ADDED ${object}`),
          `client-go's watch to see ${object}`,
          30_000,
        );
      }
    } finally {
      await watch.stop();
    }
  },
  { nodes: true },
);

e2eTest(
  "through the host API server with the admin's client certificate: east sees the caller, reads, watches, lists, follows logs and execs",
  async (env) => {
    const east = env.cluster("east");
    const { ns, viaHost } = await fixture(env);
    const whoami = JSON.parse(
      await kubectlOk(viaHost, ["--context=east", "auth", "whoami", "-o", "json"]),
    );
    assertEquals(whoami.status.userInfo.username, "mca-admin-cert", "east sees the caller");

    const marker = uniqueName("read");
    await kubectlOk(east, ["create", "configmap", marker, "-n", ns]);
    assertEquals(
      (await kubectlOk(viaHost, [
        "--context=east",
        "get",
        "configmap",
        marker,
        "-n",
        ns,
        "-o",
        "name",
      ]))
        .trim(),
      `configmap/${marker}`,
    );

    await using watch = await startKubectl(viaHost, [
      "--context=east",
      "get",
      "configmaps",
      "-n",
      ns,
      "--watch-only",
      "-o",
      "name",
    ]);
    const watched = uniqueName("watched");
    // The watch is open once kubectl waits; creating until the event shows covers the start.
    await waitFor(async () => {
      await kubectl(east, ["create", "configmap", watched, "-n", ns]);
      return watch.stdout().includes(`configmap/${watched}`);
    }, { timeoutMs: 30_000, intervalMs: 1_000, description: "a watch event through the host" });

    // A LIST in chunks, as kubectl pages it (continue tokens through both hops).
    const many = Array.from({ length: 120 }, (_, i) => ({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: `bulk-${i}`, namespace: ns },
      data: { payload: "x".repeat(2_000) },
    }));
    await apply(east, ...many);
    const listed = await kubectlOk(viaHost, [
      "--context=east",
      "get",
      "configmaps",
      "-n",
      ns,
      "--chunk-size=25",
      "-o",
      "name",
    ]);
    assertEquals(listed.split("\n").filter((l) => l.startsWith("configmap/bulk-")).length, 120);

    await using logs = await startKubectl(viaHost, [
      "--context=east",
      "logs",
      "-f",
      "target",
      "-n",
      ns,
    ]);
    const first = Number((await logs.waitFor(/tick (\d+)/))[1]);
    await logs.waitFor(new RegExp(`tick ${first + 2}\\b`), 30_000);

    const hostname = await kubectlOk(viaHost, [
      "--context=east",
      "exec",
      "target",
      "-n",
      ns,
      "--",
      "deno",
      "eval",
      "console.log(Deno.hostname())",
    ]);
    assertEquals(hostname.trim(), "target");
  },
  { nodes: true },
);

e2eTest(
  "through the host API server: callers without clusters/proxy get 403, from kube-apiserver or the hub; one rule for both groups lets them in",
  async (env) => {
    const host = env.cluster("host");
    const { ns: eastNs, viaHost } = await fixture(env);
    const ns = uniqueName("callers");
    await kubectlOk(host, ["create", "namespace", ns]);
    const rule = (groups: string[]) => ({
      apiGroups: groups,
      resources: ["clusters/proxy"],
      resourceNames: ["east"],
      verbs: ["get", "create", "update", "patch", "delete"],
    });
    const callers = {
      nobody: [],
      "host-only": [rule(["proxy.mca.k8s.io"])],
      both: [rule(["mca.k8s.io", "proxy.mca.k8s.io"])],
    };
    for (const [name, rules] of Object.entries(callers)) {
      await kubectlOk(host, ["create", "serviceaccount", name, "-n", ns]);
      await apply(host, {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRole",
        metadata: { name: `${ns}-${name}` },
        rules,
      }, {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRoleBinding",
        metadata: { name: `${ns}-${name}` },
        roleRef: {
          apiGroup: "rbac.authorization.k8s.io",
          kind: "ClusterRole",
          name: `${ns}-${name}`,
        },
        subjects: [{ kind: "ServiceAccount", name, namespace: ns }],
      });
    }
    // The Status each refusal answers with: kubectl --raw would print only a generic line.
    const client = Deno.createHttpClient({ caCerts: [host.caPem] });
    const asCaller = async (name: string) => {
      const token = (await kubectlOk(host, ["create", "token", name, "-n", ns])).trim();
      const response = await fetch(`${host.url}${PROXY_PATH}/api/v1/namespaces/${eastNs}/pods`, {
        headers: { authorization: `Bearer ${token}` },
        client,
      });
      return { code: response.status, message: String((await response.json()).message) };
    };
    try {
      const nobody = await asCaller("nobody");
      assertEquals(nobody.code, 403);
      assertStringIncludes(
        nobody.message,
        'in API group "proxy.mca.k8s.io"',
        "kube-apiserver refused",
      );
      const hostOnly = await asCaller("host-only");
      assertEquals(hostOnly.code, 403);
      assertStringIncludes(hostOnly.message, "in group mca.k8s.io on the host", "the hub refused");
      // Allowed on the host; east itself decides what the ServiceAccount may do there (nothing).
      const both = await asCaller("both");
      assertEquals(both.code, 403);
      assertStringIncludes(both.message, `serviceaccount:${ns}:both`);
      assert(!both.message.includes("on the host"), both.message);
      assert(!both.message.includes("proxy.mca.k8s.io"), both.message);
    } finally {
      client.close();
    }
    // kubectl --as: the host API server checks the impersonation and passes the impersonated
    // caller on, which then needs clusters/proxy like anyone.
    const as = (name: string) =>
      kubectl(viaHost, [
        "--context=east",
        `--as=system:serviceaccount:${ns}:${name}`,
        "auth",
        "whoami",
      ]);
    const asBoth = await as("both");
    assertEquals(asBoth.code, 0, asBoth.stderr);
    assertStringIncludes(asBoth.stdout, `system:serviceaccount:${ns}:both`);
    const asNobody = await kubectl(viaHost, [
      "--context=east",
      `--as=system:serviceaccount:${ns}:nobody`,
      "get",
      "configmaps",
      `--namespace=${eastNs}`,
    ]);
    assert(asNobody.code !== 0);
    assertStringIncludes(asNobody.stderr, 'in API group "proxy.mca.k8s.io"');
  },
  { nodes: true },
);

e2eTest(
  "the hub's aggregated path refuses X-Remote-* headers without the front proxy's certificate: 401",
  async (env) => {
    const host = env.cluster("host");
    const { hubUrl, hubCaPem, ns } = await fixture(env);
    const headers = {
      "X-Remote-User": "mca-admin-cert",
      "X-Remote-Group": "system:masters",
    };
    const clients = [
      Deno.createHttpClient({ caCerts: [hubCaPem] }),
      // A client certificate the host trusts, but not the front proxy's.
      Deno.createHttpClient({
        caCerts: [hubCaPem],
        cert: host.adminCertPem,
        key: host.adminKeyPem,
      }),
    ];
    for (const client of clients) {
      try {
        const response = await fetch(`${hubUrl}${PROXY_PATH}/api/v1/namespaces/${ns}/pods`, {
          headers,
          client,
        });
        const status = await response.json();
        assertEquals(response.status, 401, JSON.stringify(status));
        assertStringIncludes(status.message, "front proxy");
      } finally {
        client.close();
      }
    }
  },
  { nodes: true },
);

e2eTest(
  "the host's audit log records who reached which member and the path",
  async (env) => {
    const host = env.cluster("host");
    const { ns, viaHost } = await fixture(env);
    assert(host.auditLogPath, "the clusters with nodes log audit events");
    const marker = uniqueName("audited");
    await kubectl(viaHost, ["--context=east", "get", "configmap", marker, "-n", ns]);
    const path = `${PROXY_PATH}/api/v1/namespaces/${ns}/configmaps/${marker}`;
    const event = await waitFor(async () => {
      const text = await Deno.readTextFile(host.auditLogPath!);
      return text.split("\n").filter(Boolean).map((line) => JSON.parse(line)).find((e) =>
        e.stage === "ResponseComplete" && e.requestURI === path
      );
    }, { timeoutMs: 30_000, description: "the audit event of the request" });
    assertEquals(event.user.username, "mca-admin-cert");
    assertEquals(event.verb, "get");
    assertEquals(event.objectRef, {
      resource: "clusters",
      name: "east",
      apiGroup: "proxy.mca.k8s.io",
      apiVersion: "v1alpha1",
      subresource: "proxy",
    });
  },
  { nodes: true },
);
