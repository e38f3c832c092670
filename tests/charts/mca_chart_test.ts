/**
 * charts/mca: helm lint, kubeconform -strict against the Kubernetes 1.34 schemas, server-side
 * dry-run on a real API server, and agreement with the binary (webhook configuration, flags,
 * image, CRD) and with the chart's own documentation.
 */
import { isMap, parse, parseDocument, type YAMLMap } from "yaml";
import { assert, assertEquals, assertStringIncludes } from "../_utils/assert.ts";
import { e2eTest, kubectlOk, uniqueName } from "../_utils/e2e.ts";
import { buildProgram } from "../../main.ts";
import { DEFAULT_IMAGE } from "../../src/inject/mod.ts";
import { MCA_VERSION } from "../../src/version.ts";
import { webhookConfiguration } from "../../src/webhook/mod.ts";
import {
  ALL_OPTIONS,
  applyMonitoringCrds,
  CHART_CRD,
  CHART_DIR,
  chartTools,
  DEPLOY_CRD,
  describeProblems,
  helmTemplate,
  kubeconform,
  type Manifest,
  parseManifests,
  run,
  VALUE_SETS,
} from "./_chart.ts";

type Container = { name: string; image: string; args: string[] };
type PodTemplate = { spec: { template: { spec: { containers: Container[] } } } };

function find(manifests: Manifest[], kind: string, component?: string): Manifest[] {
  return manifests.filter((m) =>
    m.kind === kind &&
    (component === undefined || m.metadata.labels?.["app.kubernetes.io/component"] === component)
  );
}

function container(manifests: Manifest[], component: string): Container {
  const [deployment] = find(manifests, "Deployment", component);
  assert(deployment, `no ${component} Deployment rendered`);
  return (deployment as unknown as PodTemplate).spec.template.spec.containers[0]!;
}

function flag(args: string[], name: string): string | undefined {
  return args.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
}

Deno.test("the chart's Cluster CRD is deploy/crds' file, byte for byte", async () => {
  assertEquals(
    await Deno.readTextFile(CHART_CRD),
    await Deno.readTextFile(DEPLOY_CRD),
    `charts/mca/crds/ and deploy/crds/ differ: copy deploy/crds/clusters.mca.k8s.io.yaml over the chart's`,
  );
});

Deno.test("Chart.yaml's appVersion is mca's version, and the default image is the binary's", async () => {
  const chart = parse(await Deno.readTextFile(`${CHART_DIR}/Chart.yaml`));
  assertEquals(chart.appVersion, MCA_VERSION);
  const manifests = parseManifests(await helmTemplate({}));
  for (const component of ["webhook", "hub"]) {
    assertEquals(container(manifests, component).image, DEFAULT_IMAGE);
  }
});

/**
 * Keys of values.yaml with their comment; maps with free-form keys (labels...) are leaves: those
 * whose keys are no identifiers, or that `freeForm` names (the schema's free-form maps).
 */
function documentedValues(
  map: YAMLMap,
  path: string[] = [],
  freeForm: (key: string) => boolean = () => false,
) {
  const out: { key: string; comment: string | undefined; value: unknown }[] = [];
  map.items.forEach((pair, index) => {
    const key = String((pair.key as { value: unknown }).value);
    // The comment above a map's first key belongs to the map node in the yaml library.
    const comment = (pair.key as { commentBefore?: string }).commentBefore ??
      (index === 0 ? map.commentBefore ?? undefined : undefined);
    const value = pair.value;
    const nested = isMap(value) && value.items.length > 0 &&
      !freeForm([...path, key].join(".")) &&
      value.items.every((item) =>
        /^[a-zA-Z]\w*$/.test(String((item.key as { value: unknown }).value))
      );
    if (nested) {
      out.push({ key: [...path, key].join("."), comment, value: undefined });
      out.push(...documentedValues(value, [...path, key], freeForm));
    } else {
      out.push({
        key: [...path, key].join("."),
        comment,
        value: (value as { toJSON(): unknown }).toJSON(),
      });
    }
  });
  return out;
}

Deno.test("every value in values.yaml has a comment, and a row with its default in the chart README", async () => {
  const document = parseDocument(await Deno.readTextFile(`${CHART_DIR}/values.yaml`));
  const schema = JSON.parse(await Deno.readTextFile(`${CHART_DIR}/values.schema.json`));
  const values = documentedValues(
    document.contents as YAMLMap,
    [],
    // Label maps (string values of any key), not resources (quantities of known keys).
    (key) => {
      const free = schemaAt(schema, key)?.additionalProperties;
      return typeof free === "object" && (free as { type?: unknown }).type === "string";
    },
  );
  const undocumented = values.filter((value) => !value.comment?.trim()).map((value) => value.key);
  assertEquals(undocumented, [], "values.yaml keys without a comment above them");

  const readme = await Deno.readTextFile(`${CHART_DIR}/README.md`);
  const rows = new Map(
    [...readme.matchAll(/^\| `([^`]+)` +\| `([^`]*)` +\| [^|]+\|$/gm)].map((m) => [m[1]!, m[2]!]),
  );
  const leaves = values.filter((value) => value.value !== undefined);
  assertEquals(
    [...rows.keys()].sort(),
    leaves.map((value) => value.key).sort(),
    "README values table rows vs values.yaml",
  );
  for (const leaf of leaves) {
    assertEquals(
      parse(rows.get(leaf.key)!) ?? "",
      leaf.value,
      `README default of "${leaf.key}" differs from values.yaml`,
    );
  }
});

type SchemaNode = {
  description?: string;
  properties?: Record<string, SchemaNode>;
  additionalProperties?: boolean | SchemaNode;
};

/** The schema node of a dotted values path (free-form maps take any key); undefined when none. */
function schemaAt(schema: SchemaNode, key: string): SchemaNode | undefined {
  let node: SchemaNode | undefined = schema;
  for (const part of key.split(".")) {
    const free: SchemaNode | undefined = typeof node?.additionalProperties === "object"
      ? node.additionalProperties
      : undefined;
    node = node?.properties?.[part] ?? free;
  }
  return node;
}

/** Dotted paths of every property the schema names. */
function schemaKeys(node: SchemaNode, path: string[] = []): string[] {
  return Object.entries(node.properties ?? {}).flatMap(([key, child]) => [
    [...path, key].join("."),
    ...schemaKeys(child, [...path, key]),
  ]);
}

Deno.test("values.schema.json describes exactly the keys of values.yaml", async () => {
  const schema = JSON.parse(await Deno.readTextFile(`${CHART_DIR}/values.schema.json`));
  const document = parseDocument(await Deno.readTextFile(`${CHART_DIR}/values.yaml`));
  const keys = documentedValues(document.contents as YAMLMap).map((value) => value.key);
  const missing = keys.filter((key) => !schemaAt(schema, key));
  assertEquals(missing, [], "values.yaml keys the schema does not know");
  const unknown = schemaKeys(schema).filter((key) => !keys.includes(key));
  assertEquals(unknown, [], "schema properties values.yaml does not have");
  const undescribed = schemaKeys(schema).filter((key) => !schemaAt(schema, key)?.description);
  assertEquals(undescribed, [], "schema properties without a description");
});

/** Wrong values, each with the path helm must name when it refuses them. */
const WRONG_VALUES: [string, Record<string, unknown>, string][] = [
  ["a number as text", { webhook: { replicas: "two" } }, "/webhook/replicas"],
  ["a misspelt key", { webhook: { replica: 3 } }, "replica"],
  ["an unknown pull policy", { image: { pullPolicy: "Sometimes" } }, "/image/pullPolicy"],
  ["an unknown failure policy", { webhook: { failurePolicy: "Maybe" } }, "/webhook/failurePolicy"],
  ["an unknown Service type", { hub: { service: { type: "Ingress" } } }, "/hub/service/type"],
  ["an unknown log level", { hub: { logLevel: "verbose" } }, "/hub/logLevel"],
  ["a duration without a unit", { hub: { certValidity: "365" } }, "/hub/certValidity"],
  ["a port out of range", { webhook: { port: 70000 } }, "/webhook/port"],
  [
    "a memory that is no quantity",
    { webhook: { sidecar: { memoryRequest: "lots" } } },
    "memoryRequest",
  ],
  ["a digest that is not sha256", { image: { digest: "md5:abc" } }, "/image/digest"],
  ["a pull secret without a name", { imagePullSecrets: [{}] }, "/imagePullSecrets/0"],
  ["a label that is not text", { commonLabels: { team: 7 } }, "/commonLabels/team"],
  [
    "a scrape interval without a unit",
    { monitoring: { serviceMonitor: { interval: "30" } } },
    "/monitoring/serviceMonitor/interval",
  ],
  [
    "an error ratio above 1",
    { monitoring: { prometheusRule: { memberErrorRatio: 5 } } },
    "/monitoring/prometheusRule/memberErrorRatio",
  ],
  [
    "a misspelt monitoring key",
    { monitoring: { serviceMonitors: { enabled: true } } },
    "serviceMonitors",
  ],
];

Deno.test("helm refuses wrong values before rendering anything, naming the value", async () => {
  const { helm } = await chartTools();
  for (const [what, values, path] of WRONG_VALUES) {
    const file = await Deno.makeTempFile({ suffix: ".json" });
    try {
      await Deno.writeTextFile(file, JSON.stringify(values));
      const result = await run(helm, ["template", "mca", CHART_DIR, `--values=${file}`]);
      assert(result.code !== 0, `helm accepted ${what}`);
      assertStringIncludes(result.stderr, path, what);
      assertEquals(result.stdout, "", what);
    } finally {
      await Deno.remove(file);
    }
  }
});

Deno.test("helm lint --strict passes with each value set", async () => {
  const { helm } = await chartTools();
  for (const [name, values] of Object.entries(VALUE_SETS)) {
    const file = await Deno.makeTempFile({ suffix: ".json" });
    try {
      await Deno.writeTextFile(file, JSON.stringify(values));
      const result = await run(helm, ["lint", "--strict", CHART_DIR, `--values=${file}`]);
      assertEquals(result.code, 0, `helm lint with ${name}:\n${result.stdout}${result.stderr}`);
      assertStringIncludes(result.stdout, "1 chart(s) linted, 0 chart(s) failed");
    } finally {
      await Deno.remove(file);
    }
  }
});

Deno.test("helm template renders only objects that kubeconform -strict accepts, with each value set", async () => {
  for (const [name, values] of Object.entries(VALUE_SETS)) {
    const rendered = await helmTemplate(values, { includeCrds: true });
    const report = await kubeconform(rendered);
    const objects = parseManifests(rendered).length;
    assertEquals(report.resources.length, objects, `${name}: kubeconform saw every object`);
    assertEquals(
      report.summary,
      { valid: objects, invalid: 0, errors: 0, skipped: 0 },
      `${name}:\n${describeProblems(report)}`,
    );
  }
});

Deno.test("every option renders what it promises", async () => {
  const manifests = parseManifests(await helmTemplate(ALL_OPTIONS));
  const count = (kind: string) => manifests.filter((m) => m.kind === kind).length;
  assertEquals(
    Object.fromEntries(
      [
        "Deployment",
        "Service",
        "PodDisruptionBudget",
        "Ingress",
        "MutatingWebhookConfiguration",
        "NetworkPolicy",
      ].map((kind) => [kind, count(kind)]),
    ),
    {
      Deployment: 2,
      Service: 2,
      PodDisruptionBudget: 2,
      Ingress: 1,
      MutatingWebhookConfiguration: 1,
      NetworkPolicy: 2,
    },
  );
  type Policy = {
    spec: {
      podSelector: { matchLabels: Record<string, string> };
      ingress: { ports: { port: string; protocol: string }[]; from?: unknown[] }[];
    };
  };
  const [webhookPolicy] = find(manifests, "NetworkPolicy", "webhook") as unknown as Policy[];
  assertEquals(webhookPolicy!.spec.ingress, [{
    ports: [{ port: "https", protocol: "TCP" }],
    from: ALL_OPTIONS.networkPolicy.webhookFrom,
  }]);
  const [hubPolicy] = find(manifests, "NetworkPolicy", "hub") as unknown as Policy[];
  assertEquals(hubPolicy!.spec.ingress[0]!.from, ALL_OPTIONS.networkPolicy.hubFrom);
  // The peer port: the other hub replicas only, selected as the hub's own pods are.
  assertEquals(hubPolicy!.spec.ingress[1], {
    ports: [{ port: "peer", protocol: "TCP" }],
    from: [{ podSelector: { matchLabels: hubPolicy!.spec.podSelector.matchLabels } }],
  });
  const defaults = parseManifests(await helmTemplate({}));
  assertEquals(defaults.filter((m) => m.kind === "NetworkPolicy"), [], "off by default");
  const [service] = find(manifests, "Service", "hub") as unknown as {
    spec: { type: string; ports: Record<string, unknown>[] };
  }[];
  assertEquals(service!.spec.type, "NodePort");
  assertEquals(service!.spec.ports[0], {
    name: "https",
    port: 8443,
    targetPort: "https",
    protocol: "TCP",
    nodePort: 30443,
  });
  const [ingress] = find(manifests, "Ingress") as unknown as {
    metadata: { annotations: Record<string, string> };
    spec: { ingressClassName: string; tls?: unknown; rules: { host: string }[] };
  }[];
  assertEquals(
    ingress!.metadata.annotations["nginx.ingress.kubernetes.io/ssl-passthrough"],
    "true",
  );
  assertEquals(ingress!.spec.tls, undefined, "a passthrough Ingress must not terminate TLS");
  assertEquals(ingress!.spec.rules[0]!.host, "mca-hub.example.com");
  for (const component of ["webhook", "hub"]) {
    const [deployment] = find(manifests, "Deployment", component) as unknown as {
      spec: { template: { spec: { priorityClassName: string } } };
    }[];
    assertEquals(deployment!.spec.template.spec.priorityClassName, "mca-critical");
  }
  const hub = container(manifests, "hub");
  assertEquals(
    flag(hub.args, "dns-names")!.split(","),
    [
      "mca-all-hub",
      "mca-all-hub.mca-system",
      "mca-all-hub.mca-system.svc",
      "mca-all-hub.mca-system.svc.corp.internal",
      "mca-hub.example.com",
      "hub.example.org",
    ],
  );
  assertEquals(flag(hub.args, "ip-addresses"), "203.0.113.10,2001:db8::10");
  assertEquals(flag(hub.args, "cert-validity"), "90d");
});

Deno.test("aggregatedApi registers the APIService at the hub's Service and lets the hub read the front-proxy settings", async () => {
  const manifests = parseManifests(await helmTemplate(ALL_OPTIONS));
  const [apiService] = find(manifests, "APIService") as unknown as Array<{
    metadata: { name: string };
    spec: Record<string, unknown>;
  }>;
  assertEquals(apiService?.metadata.name, "v1alpha1.proxy.mca.k8s.io");
  assertEquals(apiService?.spec.service, {
    name: "mca-all-hub",
    namespace: "mca-system",
    port: 8443, // ALL_OPTIONS.hub.service.port
  });
  assertEquals(apiService?.spec.groupPriorityMinimum, 50);
  assertEquals(apiService?.spec.caBundle, undefined, "the hub sets the caBundle");
  assert(container(manifests, "hub").args.includes("--aggregated-api"));
  const reader = find(manifests, "RoleBinding").find((m) => m.metadata.namespace === "kube-system");
  assertEquals(
    (reader as unknown as { roleRef: { name: string } }).roleRef.name,
    "extension-apiserver-authentication-reader",
  );

  const off = parseManifests(await helmTemplate({ aggregatedApi: { enabled: false } }));
  assertEquals(find(off, "APIService"), []);
  assert(!container(off, "hub").args.includes("--aggregated-api"));
  assertEquals(find(off, "RoleBinding").filter((m) => m.metadata.namespace === "kube-system"), []);
});

Deno.test("each component runs only with its PodDisruptionBudget when it has several replicas", async () => {
  const single = parseManifests(await helmTemplate(VALUE_SETS["one webhook replica and no hub"]!));
  assertEquals(find(single, "PodDisruptionBudget"), []);
  assertEquals(find(single, "Deployment", "hub"), []);
  const hubOnly = parseManifests(await helmTemplate(VALUE_SETS["the hub alone"]!));
  assertEquals(find(hubOnly, "MutatingWebhookConfiguration"), []);
  assertEquals(find(hubOnly, "PodDisruptionBudget").map((m) => m.metadata.name), ["mca-hub"]);
});

Deno.test("kubeconform with the generated schemas refuses an unknown field, a wrong type and an unknown kind", async () => {
  const manifests = parseManifests(await helmTemplate({}));
  const deployment = structuredClone(find(manifests, "Deployment", "hub")[0]!) as unknown as {
    spec: { replicas: unknown; template: { spec: { containers: Record<string, unknown>[] } } };
  };
  deployment.spec.template.spec.containers[0]!.imagePullPolicyy = "Always";
  const wrongType = structuredClone(find(manifests, "Service", "hub")[0]!) as unknown as {
    spec: { ports: { port: unknown }[] };
  };
  wrongType.spec.ports[0]!.port = "four-four-three";
  const unknownKind = { apiVersion: "mca.k8s.io/v1alpha1", kind: "Hub", metadata: { name: "x" } };
  const badCluster = {
    apiVersion: "mca.k8s.io/v1alpha1",
    kind: "Cluster",
    metadata: { name: "bad" },
    spec: { identity: "Root" },
  };
  const goodCluster = {
    ...badCluster,
    metadata: { name: "good" },
    spec: { identity: "Impersonate" },
  };
  const report = await kubeconform(
    [deployment, wrongType, unknownKind, badCluster, goodCluster].map((m) => JSON.stringify(m))
      .join("\n---\n"),
  );
  // kubeconform validates in parallel: its report is in no particular order.
  const byObject = new Map(report.resources.map((r) => [`${r.kind}/${r.name}`, r]));
  assertEquals(
    Object.fromEntries([...byObject].map(([key, r]) => [key, r.status])),
    {
      "Deployment/mca-hub": "statusInvalid",
      "Service/mca-hub": "statusInvalid",
      "Hub/x": "statusError",
      "Cluster/bad": "statusInvalid",
      "Cluster/good": "statusValid",
    },
  );
  assertStringIncludes(byObject.get("Deployment/mca-hub")!.msg, "imagePullPolicyy");
  assertStringIncludes(byObject.get("Service/mca-hub")!.msg, "/spec/ports/0/port");
  assertStringIncludes(byObject.get("Hub/x")!.msg, "could not find schema for Hub");
});

Deno.test("the rendered MutatingWebhookConfiguration is the one mca webhook registers, minus the caBundle", async () => {
  for (const [values, namespace] of [[{}, "mca-system"], [ALL_OPTIONS, "platform"]] as const) {
    const manifests = parseManifests(await helmTemplate(values, { namespace }));
    const [rendered] = find(manifests, "MutatingWebhookConfiguration") as unknown as {
      metadata: { name: string; labels: Record<string, string> };
      webhooks: unknown[];
    }[];
    const args = container(manifests, "webhook").args;
    const fromBinary = webhookConfiguration({
      name: flag(args, "configuration-name")!,
      namespace,
      endpoint: {
        service: {
          namespace: flag(args, "namespace")!,
          name: flag(args, "service-name")!,
          port: Number(flag(args, "service-port")),
        },
      },
      caBundlePem: "",
      failurePolicy: flag(args, "failure-policy") as "Fail" | "Ignore",
    }) as { metadata: { name: string }; webhooks: { clientConfig: { caBundle?: string } }[] };
    for (const webhook of fromBinary.webhooks) delete webhook.clientConfig.caBundle;
    assertEquals(rendered!.metadata.name, fromBinary.metadata.name);
    assertEquals(rendered!.webhooks, fromBinary.webhooks);
    // The webhook rewrites only configurations labelled as its own; Helm's label keeps it to the caBundle.
    assertEquals(rendered!.metadata.labels["app.kubernetes.io/managed-by"], "Helm");
  }
});

Deno.test("the chart passes only flags that mca has, and the webhook gives sidecars its own image", async () => {
  const program = buildProgram({ stdout: () => {}, stderr: () => {} });
  const known = (command: string) =>
    new Set(program.commands.find((c) => c.name() === command)!.options.map((o) => o.long));
  for (const [name, values] of Object.entries(VALUE_SETS)) {
    const manifests = parseManifests(await helmTemplate(values));
    for (const component of ["webhook", "hub"]) {
      if (find(manifests, "Deployment", component).length === 0) continue;
      const { args, image } = container(manifests, component);
      assertEquals(args[0], component);
      const unknown = args.slice(1).map((arg) => arg.split("=")[0]).filter((f) =>
        !known(component).has(f)
      );
      assertEquals(unknown, [], `${name}: flags unknown to "mca ${component}"`);
      if (component === "webhook") assertEquals(flag(args, "image"), image, name);
    }
  }
});

e2eTest(
  "kubectl apply --dry-run=server accepts every value set on a real API server",
  async (env) => {
    const host = env.cluster("host");
    const namespace = uniqueName("mca-chart-dry");
    await kubectlOk(host, ["create", "namespace", namespace]);
    // Custom resources need their CRD for real; the chart's objects are only dry-run.
    await kubectlOk(host, ["apply", "-f", CHART_CRD]);
    await applyMonitoringCrds(host);
    for (const [name, values] of Object.entries(VALUE_SETS)) {
      const rendered = await helmTemplate(values, { namespace, release: "mca" });
      const output = await kubectlOk(host, [
        "apply",
        "--dry-run=server",
        "--validate=strict",
        "-f",
        "-",
      ], { stdin: rendered });
      const applied = output.trim().split("\n").filter((line) =>
        /(created|configured) \(server dry run\)$/.test(line)
      );
      assertEquals(applied.length, parseManifests(rendered).length, `${name}:\n${output}`);
    }
  },
);
