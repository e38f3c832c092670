/**
 * charts/mca-agent renders exactly the objects `mca agent manifest` prints for the same inputs
 * (both rendered, parsed and compared whole), lints, and refuses incomplete or wrong values.
 */
import { parse } from "yaml";
import { assert, assertEquals, assertStringIncludes } from "../_utils/assert.ts";
import { e2eTest, kubectlOk, uniqueName } from "../_utils/e2e.ts";
import { runMca } from "../_utils/mca_process.ts";
import { tempDir } from "../_utils/temp_dir.ts";
import { createCertificateAuthority } from "../../src/pki/mod.ts";
import { computeCaPin } from "../../src/pki/mod.ts";
import { MCA_VERSION } from "../../src/version.ts";
import { KUBERNETES_VERSION } from "../../src/testenv/mod.ts";
import {
  AGENT_CHART_DIR,
  applyMonitoringCrds,
  chartTools,
  describeProblems,
  helmTemplate,
  kubeconform,
  type Manifest,
  parseManifests,
  run,
} from "./_chart.ts";

const PLACEHOLDER_TOKEN = "<set by mca agent install>";

/** One set of inputs, as `mca agent manifest` flags and as the chart's values. */
interface Case {
  namespace?: string;
  flags: string[];
  values: Record<string, unknown>;
}

const CASES: Record<string, Case> = {
  "the defaults": { flags: [], values: {} },
  "every option": {
    namespace: "member-agent",
    flags: [
      "--image=registry.example/mca:v9.9.9",
      "--replicas=3",
      "--act-as-agent=view",
      "--https-proxy=http://user:p%40ss@proxy.corp:3128",
      "--no-proxy=.corp,10.0.0.0/8",
      "--keepalive-interval=20s",
      "--pod-monitor",
    ],
    values: {
      image: { repository: "registry.example/mca", tag: "v9.9.9" },
      replicas: 3,
      actAsAgent: "view",
      egress: {
        httpsProxy: "http://user:p%40ss@proxy.corp:3128",
        noProxy: ".corp,10.0.0.0/8",
        keepaliveInterval: "20s",
      },
      podMonitor: { enabled: true },
    },
  },
  "a join token and a rotation interval": {
    flags: [`--join-token=${"a".repeat(10)}.${"b".repeat(32)}`, "--token-rotation-interval=24h"],
    values: {
      token: "",
      joinToken: `${"a".repeat(10)}.${"b".repeat(32)}`,
      tokenRotationInterval: "24h",
    },
  },
  "a proxy without credentials": {
    flags: ["--https-proxy=http://proxy.corp:3128"],
    values: { egress: { httpsProxy: "http://proxy.corp:3128" } },
  },
};

/** Objects in a stable order, for a comparison that ignores rendering order. */
function sorted(objects: Manifest[]): Manifest[] {
  const key = (m: Manifest) => `${m.kind}/${m.metadata.namespace ?? ""}/${m.metadata.name}`;
  return [...objects].sort((a, b) => key(a).localeCompare(key(b)));
}

let hubCa: Promise<{ pem: string; pin: string }> | undefined;
function testHubCa() {
  hubCa ??= createCertificateAuthority({ commonName: "mca-hub-ca" }).then(async (ca) => ({
    pem: ca.certificatePem,
    pin: await computeCaPin(ca.certificatePem),
  }));
  return hubCa;
}

/** The chart's values for a case: the hub, cluster and namespace of the manifest's flags. */
async function chartValues(values: Record<string, unknown>) {
  const { pem, pin } = await testHubCa();
  return {
    cluster: "east",
    hub: { url: "https://mca-hub.example.com", ca: pem, caPin: pin },
    token: PLACEHOLDER_TOKEN,
    createNamespace: true,
    ...values,
  };
}

for (const [name, { namespace = "mca-agent", flags, values }] of Object.entries(CASES)) {
  Deno.test(`charts/mca-agent renders the objects of mca agent manifest: ${name}`, async () => {
    await using dir = await tempDir("mca-agent-chart-");
    const { pem } = await testHubCa();
    const caFile = await dir.write("hub-ca.crt", pem);
    const printed = await runMca([
      "agent",
      "manifest",
      "--hub=https://mca-hub.example.com",
      "--cluster=east",
      `--hub-ca-file=${caFile}`,
      `--agent-namespace=${namespace}`,
      ...flags,
    ]);
    assertEquals(printed.code, 0, printed.stderr);
    const rendered = await helmTemplate(await chartValues(values), {
      chart: AGENT_CHART_DIR,
      release: "mca-agent",
      namespace,
    });
    const fromChart = sorted(parseManifests(rendered));
    const fromCli = sorted(parseManifests(printed.stdout));
    assert(fromCli.length >= 6, `mca agent manifest printed ${fromCli.length} objects`);
    assertEquals(fromChart, fromCli);
    const report = await kubeconform(rendered);
    assertEquals(describeProblems(report), "");
  });
}

Deno.test("charts/mca-agent with existingSecret renders no Secret and reads everything from the named one", async () => {
  const { pin } = await testHubCa();
  const objects = parseManifests(
    await helmTemplate({
      cluster: "east",
      hub: { url: "https://mca-hub.example.com", caPin: pin },
      existingSecret: "agent-credentials",
      egress: { httpsProxy: "http://user:pass@proxy:3128" },
    }, { chart: AGENT_CHART_DIR, namespace: "mca-agent" }),
  );
  assertEquals(objects.filter((m) => m.kind === "Secret"), []);
  assertEquals(objects.some((m) => m.kind === "Namespace"), false);
  const text = JSON.stringify(objects.find((m) => m.kind === "Deployment"));
  assertStringIncludes(text, '"secretName":"agent-credentials"');
  assertStringIncludes(text, '"secretKeyRef":{"name":"agent-credentials","key":"https-proxy"}');
  assert(!text.includes("user:pass"), "the proxy's credentials are not in the pod spec");
  // The agent keeps its tokens in that Secret: it names it, and may get and patch only it.
  assertStringIncludes(text, '"--agent-secret=agent-credentials"');
  const role = objects.find((m) => m.kind === "Role") as unknown as { rules: unknown[] };
  assertEquals(role.rules, [{
    apiGroups: [""],
    resources: ["secrets"],
    resourceNames: ["agent-credentials"],
    verbs: ["get", "patch"],
  }]);
});

Deno.test("charts/mca-agent adds podMonitor.labels to the PodMonitor only", async () => {
  const objects = parseManifests(
    await helmTemplate(
      await chartValues({ podMonitor: { enabled: true, labels: { release: "prometheus" } } }),
      { chart: AGENT_CHART_DIR, namespace: "mca-agent" },
    ),
  );
  const labelled = objects.filter((m) => m.metadata.labels?.release === "prometheus");
  assertEquals(labelled.map((m) => m.kind), ["PodMonitor"]);
});

Deno.test("charts/mca-agent refuses missing and wrong values with what to set", async () => {
  const { helm } = await chartTools();
  const { pem, pin } = await testHubCa();
  const complete = { cluster: "east", hub: { url: "https://h.example", ca: pem, caPin: pin } };
  const cases: [Record<string, unknown>, string][] = [
    [{}, "Set cluster"],
    [
      { ...complete },
      "Set token (the agent token), joinToken (from mca agent token create) or existingSecret",
    ],
    [{ ...complete, joinToken: "not-a-join-token" }, "joinToken"],
    [{ ...complete, token: "t", hub: { ...complete.hub, caPin: "abc" } }, "caPin"],
    [{ ...complete, token: "t", replicas: "two" }, "replicas"],
    [{ ...complete, token: "t", egress: { httpsProxy: "https://proxy:3128" } }, "httpsProxy"],
    [{ ...complete, token: "t", unknown: 1 }, "unknown"],
  ];
  await using dir = await tempDir("mca-agent-values-");
  for (const [values, expected] of cases) {
    const file = await dir.write("values.json", JSON.stringify(values));
    const result = await run(helm, [
      "template",
      "mca-agent",
      AGENT_CHART_DIR,
      `--kube-version=${KUBERNETES_VERSION}`,
      `--values=${file}`,
    ]);
    assert(result.code !== 0, `helm template accepted ${JSON.stringify(values)}`);
    assertStringIncludes(result.stderr, expected);
  }
});

Deno.test("charts/mca-agent: helm lint passes and its appVersion is mca's version", async () => {
  const { helm } = await chartTools();
  const { pem, pin } = await testHubCa();
  await using dir = await tempDir("mca-agent-lint-");
  const file = await dir.write(
    "values.json",
    JSON.stringify({
      cluster: "east",
      hub: { url: "https://h.example", ca: pem, caPin: pin },
      token: "t",
    }),
  );
  const lint = await run(helm, ["lint", "--strict", AGENT_CHART_DIR, `--values=${file}`]);
  assertEquals(lint.code, 0, lint.stdout + lint.stderr);
  const chart = parse(await Deno.readTextFile(`${AGENT_CHART_DIR}/Chart.yaml`));
  assertEquals(chart.appVersion, MCA_VERSION);
});

e2eTest(
  "kubectl apply --dry-run=server accepts every object of charts/mca-agent, the PodMonitor included",
  async (env) => {
    const member = env.cluster("east");
    await applyMonitoringCrds(member);
    const namespace = uniqueName("mca-agent-dry");
    await kubectlOk(member, ["create", "namespace", namespace]);
    const rendered = await helmTemplate(
      await chartValues(CASES["every option"]!.values),
      { chart: AGENT_CHART_DIR, release: "mca-agent", namespace },
    );
    const objects = parseManifests(rendered).filter((m) => m.kind !== "Namespace");
    const output = await kubectlOk(member, [
      "apply",
      "--dry-run=server",
      "--validate=strict",
      "-f",
      "-",
    ], { stdin: JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }) });
    const applied = output.trim().split("\n").filter((line) =>
      /(created|configured) \(server dry run\)$/.test(line)
    );
    assertEquals(applied.length, objects.length, output);
    assertStringIncludes(output, "podmonitor.monitoring.coreos.com/mca-agent created");
  },
);

/** Dotted keys of the values with their defaults; `labels` maps are leaves. */
function leaves(values: Record<string, unknown>, path: string[] = []): [string, unknown][] {
  return Object.entries(values).flatMap(([key, value]) =>
    value && typeof value === "object" && !Array.isArray(value) && key !== "labels"
      ? leaves(value as Record<string, unknown>, [...path, key])
      : [[[...path, key].join("."), value] as [string, unknown]]
  );
}

Deno.test("charts/mca-agent: every value has a README row with its default and a schema entry", async () => {
  const values = leaves(parse(await Deno.readTextFile(`${AGENT_CHART_DIR}/values.yaml`)));
  const readme = await Deno.readTextFile(`${AGENT_CHART_DIR}/README.md`);
  const rows = new Map(
    [...readme.matchAll(/^\| `([^`]+)` +\| `([^`]*)` +\| [^|]+\|$/gm)].map((m) => [m[1]!, m[2]!]),
  );
  assertEquals([...rows.keys()].sort(), values.map(([key]) => key).sort());
  for (const [key, value] of values) assertEquals(parse(rows.get(key)!) ?? "", value, key);
  const schema = JSON.parse(await Deno.readTextFile(`${AGENT_CHART_DIR}/values.schema.json`));
  for (const [key] of values) {
    const node = key.split(".").reduce(
      (at: { properties?: Record<string, unknown> } | undefined, part) =>
        at?.properties?.[part] as { properties?: Record<string, unknown> } | undefined,
      schema,
    ) as { description?: string } | undefined;
    assert(node?.description, `values.schema.json describes "${key}"`);
  }
});
