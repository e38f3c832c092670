import { assertEquals, assertThrows } from "../_utils/assert.ts";
import { agentManifests, HTTPS_PROXY_KEY, resolveAgentEgress } from "../../src/members/mod.ts";

const BASE = {
  cluster: "east",
  hubUrl: "https://hub.example:443",
  namespace: "mca-agent",
  hubCaPem: "ca",
  hubCaPin: `sha256:${"ab".repeat(32)}`,
};

/** The agent container and the Secret's data of the manifests. */
function agentParts(manifests: Record<string, unknown>[]) {
  const find = <T>(kind: string) => manifests.find((m) => m.kind === kind) as T;
  const deployment = find<{ spec: { template: { spec: { containers: Container[] } } } }>(
    "Deployment",
  );
  return {
    container: deployment.spec.template.spec.containers[0]!,
    secret: find<{ stringData: Record<string, string> }>("Secret").stringData,
  };
}

const POD_NAMESPACE = {
  name: "POD_NAMESPACE",
  valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } },
};

interface Container {
  args: string[];
  env?: unknown[];
}

Deno.test("agentManifests() passes no proxy environment when none is given", () => {
  const { container, secret } = agentParts(agentManifests(BASE));
  assertEquals(container.env, [POD_NAMESPACE]);
  assertEquals(HTTPS_PROXY_KEY in secret, false);
  assertEquals(container.args.some((a) => a.startsWith("--keepalive-interval")), false);
});

Deno.test("agentManifests() keeps a proxy URL with credentials in the Secret, not the pod spec", () => {
  const egress = { httpsProxy: "http://u:p%40ss@proxy:3128", noProxy: ".corp,10.0.0.0/8" };
  const { container, secret } = agentParts(agentManifests({ ...BASE, egress }));
  assertEquals(container.env, [
    POD_NAMESPACE,
    {
      name: "HTTPS_PROXY",
      valueFrom: { secretKeyRef: { name: "mca-agent", key: HTTPS_PROXY_KEY } },
    },
    { name: "NO_PROXY", value: ".corp,10.0.0.0/8" },
  ]);
  assertEquals(secret[HTTPS_PROXY_KEY], "http://u:p%40ss@proxy:3128");
  assertEquals(JSON.stringify(container).includes("p%40ss"), false);
});

Deno.test("agentManifests() puts a proxy URL without credentials and the keepalive in the pod spec", () => {
  const egress = { httpsProxy: "http://proxy:3128", keepaliveInterval: "20s" };
  const { container, secret } = agentParts(agentManifests({ ...BASE, egress }));
  assertEquals(container.env, [POD_NAMESPACE, { name: "HTTPS_PROXY", value: "http://proxy:3128" }]);
  assertEquals(HTTPS_PROXY_KEY in secret, false);
  assertEquals(container.args.at(-1), "--keepalive-interval=20s");
});

Deno.test("agentManifests() with a join token: the Secret holds it and no agent token, the agent may get and patch only its own Secret", () => {
  const manifests = agentManifests({ ...BASE, joinToken: "abc.def", tokenRotationInterval: "24h" });
  const { container, secret } = agentParts(manifests);
  assertEquals(secret["join-token"], "abc.def");
  assertEquals("token" in secret, false);
  assertEquals(container.args.includes("--agent-secret=mca-agent"), true);
  assertEquals(container.args.includes("--token-rotation-interval=24h"), true);
  const role = manifests.find((m) => m.kind === "Role") as { rules: unknown[] };
  assertEquals(role.rules, [{
    apiGroups: [""],
    resources: ["secrets"],
    resourceNames: ["mca-agent"],
    verbs: ["get", "patch"],
  }]);
  const binding = manifests.find((m) => m.kind === "RoleBinding") as { subjects: unknown[] };
  assertEquals(binding.subjects, [{
    kind: "ServiceAccount",
    name: "mca-agent",
    namespace: "mca-agent",
  }]);
  // The Role comes before the Deployment whose pods use it.
  const kinds = manifests.map((m) => m.kind);
  assertEquals(kinds.indexOf("Role") < kinds.indexOf("Deployment"), true);
});

Deno.test("resolveAgentEgress() checks the flags as the agent will, without printing credentials", () => {
  assertEquals(resolveAgentEgress({ noProxy: "a", keepaliveInterval: "1m" }), {
    noProxy: "a",
    keepaliveInterval: "1m",
  });
  const error = assertThrows(
    () => resolveAgentEgress({ httpsProxy: "socks5://u:secret@p:1080" }),
    Error,
    'Invalid --https-proxy "socks5://***@p:1080"',
  );
  assertEquals(error.message.includes("secret"), false);
  assertThrows(
    () => resolveAgentEgress({ keepaliveInterval: "soon" }),
    Error,
    'Invalid --keepalive-interval "soon"',
  );
});

Deno.test("agentManifests() names the metrics port and adds a PodMonitor for it only when asked", () => {
  const plain = agentManifests(BASE);
  assertEquals(plain.some((m) => m.kind === "PodMonitor"), false);
  const container = agentParts(plain).container as Container & {
    ports: { name: string; containerPort: number }[];
  };
  assertEquals(container.ports, [{ name: "metrics", containerPort: 8081 }]);
  const monitored = agentManifests({ ...BASE, podMonitor: true });
  const podMonitor = monitored.at(-1) as {
    kind: string;
    metadata: { namespace: string };
    spec: { selector: unknown; podMetricsEndpoints: unknown[] };
  };
  assertEquals(podMonitor.kind, "PodMonitor");
  assertEquals(podMonitor.metadata.namespace, "mca-agent");
  assertEquals(podMonitor.spec.podMetricsEndpoints, [{ port: "metrics", path: "/metrics" }]);
  assertEquals(podMonitor.spec.selector, {
    matchLabels: { "app.kubernetes.io/name": "mca-agent" },
  });
});
