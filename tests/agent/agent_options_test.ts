import { assertEquals, assertThrows } from "../_utils/assert.ts";
import { AGENT_DEFAULTS, reconnectDelayMs, resolveAgentOptions } from "../../src/agent/mod.ts";

const PIN = `sha256:${"ab".repeat(32)}`;
const required = { hub: "https://hub.example.com:9443", cluster: "east", hubCaPin: PIN };

Deno.test("resolveAgentOptions() fills what is not given from AGENT_DEFAULTS", () => {
  assertEquals(resolveAgentOptions(required), {
    hubUrl: new URL("https://hub.example.com:9443"),
    cluster: "east",
    tokenFile: AGENT_DEFAULTS.tokenFile,
    tokenRotationIntervalMs: 168 * 3600_000,
    hubCaFile: AGENT_DEFAULTS.hubCaFile,
    hubCaPin: PIN,
    healthListen: { hostname: "0.0.0.0", port: 8081 },
    keepaliveIntervalMs: 15_000,
    logLevel: "info",
    logFormat: "json",
  });
  assertEquals(resolveAgentOptions({ ...required, healthListen: "" }).healthListen, undefined);
});

Deno.test("resolveAgentOptions() names the flag that is missing or wrong", () => {
  const cases: Array<[Record<string, string>, string]> = [
    [{ hub: "" }, "--hub is required"],
    [{ hub: "hub:9443" }, 'Invalid --hub "hub:9443": the hub is reached over https'],
    [{ hub: "http://hub" }, 'Invalid --hub "http://hub": the hub is reached over https'],
    [{ hub: "https://" }, 'Invalid --hub "https://": not a URL'],
    [{ cluster: "" }, "--cluster is required"],
    [{ cluster: "East_1" }, 'Invalid --cluster "East_1": a DNS label is expected'],
    [{ hubCaPin: "" }, "--hub-ca-pin is required"],
    [{ hubCaPin: "sha256:00" }, 'Invalid CA pin "sha256:00"'],
    [{ healthListen: "nowhere" }, 'Invalid --health-listen "nowhere"'],
    [{ keepaliveInterval: "15" }, 'Invalid --keepalive-interval "15"'],
    [{ tokenRotationInterval: "1" }, 'Invalid --token-rotation-interval "1"'],
    [{ agentSecret: "a/b/c" }, 'Invalid --agent-secret "a/b/c"'],
    [{ agentSecret: "mca-agent" }, "$POD_NAMESPACE is not set"],
  ];
  for (const [flags, message] of cases) {
    assertThrows(() => resolveAgentOptions({ ...required, ...flags }), Error, message);
  }
});

Deno.test("resolveAgentOptions() finds the agent's Secret in $POD_NAMESPACE or as namespace/name", () => {
  const env = (name: string) => name === "POD_NAMESPACE" ? "agents" : undefined;
  const named = resolveAgentOptions({ ...required, agentSecret: "mca-agent" }, env);
  assertEquals(named.agentSecret, { namespace: "agents", name: "mca-agent" });
  const full = resolveAgentOptions({ ...required, agentSecret: "other/mca-agent" }, env);
  assertEquals(full.agentSecret, { namespace: "other", name: "mca-agent" });
  assertEquals(
    resolveAgentOptions({ ...required, tokenRotationInterval: "0" }).tokenRotationIntervalMs,
    0,
  );
});

Deno.test("resolveAgentOptions() takes the keepalive interval and the hub's proxy from the environment", () => {
  assertEquals(
    resolveAgentOptions({ ...required, keepaliveInterval: "1m30s" }).keepaliveIntervalMs,
    90_000,
  );
  const env = (vars: Record<string, string>) => (name: string) => vars[name];
  assertEquals(resolveAgentOptions(required).hubProxy, undefined);
  assertEquals(
    resolveAgentOptions(required, env({ HTTPS_PROXY: "http://u:p@proxy:3128" })).hubProxy,
    { hostname: "proxy", port: 3128, address: "proxy:3128", authorization: `Basic ${btoa("u:p")}` },
  );
  assertEquals(
    resolveAgentOptions(required, env({ HTTPS_PROXY: "proxy:3128", NO_PROXY: "example.com" }))
      .hubProxy,
    undefined,
  );
  assertThrows(
    () => resolveAgentOptions(required, env({ HTTPS_PROXY: "https://proxy:3128" })),
    Error,
    'Invalid HTTPS_PROXY "https://proxy:3128"',
  );
});

Deno.test("reconnectDelayMs() backs off exponentially with full jitter, capped at 30 s", () => {
  assertEquals([0, 1, 2, 5, 6, 20].map((attempt) => reconnectDelayMs(attempt, () => 1)), [
    500,
    1_000,
    2_000,
    16_000,
    30_000,
    30_000,
  ]);
  assertEquals(reconnectDelayMs(3, () => 0), 0);
  assertEquals(reconnectDelayMs(3, () => 0.5), 2_000);
});
