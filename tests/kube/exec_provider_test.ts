import { assert, assertEquals, assertRejects, assertStringIncludes } from "../_utils/assert.ts";
import {
  type ExecConfig,
  execCredentialProvider,
  parseExecCredential,
} from "../../src/kube/mod.ts";
import { tempDir } from "../_utils/temp_dir.ts";

const V1 = "client.authentication.k8s.io/v1";

/** Writes a plugin script that logs each run and its KUBERNETES_EXEC_INFO, then prints `output`. */
async function plugin(
  dir: { write: (n: string, c: string, m?: number) => Promise<string> },
  body: string,
) {
  return await dir.write(
    `plugin-${crypto.randomUUID()}.sh`,
    `#!/bin/sh\necho run >> "$(dirname "$0")/runs"\nprintf '%s' "$KUBERNETES_EXEC_INFO" > "$(dirname "$0")/info"\n${body}\n`,
    0o755,
  );
}

function credential(status: Record<string, string>, apiVersion = V1): string {
  return `cat <<'EOF'\n${JSON.stringify({ apiVersion, kind: "ExecCredential", status })}\nEOF`;
}

async function runs(path: string): Promise<number> {
  const text = await Deno.readTextFile(`${path}/runs`).catch(() => "");
  return text.split("\n").filter(Boolean).length;
}

Deno.test("execCredentialProvider() runs the plugin once, caches until expiry, then runs it again", async () => {
  await using dir = await tempDir();
  const command = await plugin(
    dir,
    credential({ token: "t1", expirationTimestamp: "2030-01-01T00:00:00Z" }),
  );
  let clock = Date.parse("2029-12-31T23:00:00Z");
  const exec: ExecConfig = { command, apiVersion: V1, interactiveMode: "Never", args: ["--flag"] };
  const provider = execCredentialProvider(exec, { now: () => clock, terminal: false });
  const [a, b] = await Promise.all([provider.get(), provider.get()]);
  assertEquals(a, { authorization: "Bearer t1" });
  assertEquals(b, a);
  assertEquals(await runs(dir.path), 1, "concurrent callers share one run");
  assertEquals(await provider.get(), a);
  assertEquals(await runs(dir.path), 1);
  clock = Date.parse("2030-01-01T00:00:01Z");
  await provider.get();
  assertEquals(await runs(dir.path), 2, "expired credentials are fetched again");
});

Deno.test("execCredentialProvider() runs the plugin again after the credential is refused", async () => {
  await using dir = await tempDir();
  const command = await plugin(dir, credential({ token: "no-expiry" }));
  const provider = execCredentialProvider({ command, apiVersion: V1, interactiveMode: "Never" }, {
    terminal: false,
  });
  const used = await provider.get();
  await provider.get();
  assertEquals(await runs(dir.path), 1);
  provider.invalidate(used);
  await provider.get();
  assertEquals(await runs(dir.path), 2);
});

Deno.test("execCredentialProvider() gives env, args and cluster info to the plugin (provideClusterInfo)", async () => {
  await using dir = await tempDir();
  const command = await plugin(
    dir,
    `[ "$1" = get-token ] && [ "$MY_VAR" = hello ] || { echo "bad args or env" >&2; exit 3; }\n` +
      credential(
        { clientCertificateData: "CERT", clientKeyData: "KEY" },
        "client.authentication.k8s.io/v1beta1",
      ),
  );
  const exec: ExecConfig = {
    command,
    apiVersion: "client.authentication.k8s.io/v1beta1",
    args: ["get-token"],
    env: [{ name: "MY_VAR", value: "hello" }],
    provideClusterInfo: true,
  };
  const provider = execCredentialProvider(exec, {
    cluster: { server: "https://api.example", config: { audience: "x" } },
    terminal: false,
  });
  assertEquals(await provider.get(), { certPem: "CERT", keyPem: "KEY" });
  const info = JSON.parse(await Deno.readTextFile(`${dir.path}/info`));
  assertEquals(info, {
    apiVersion: "client.authentication.k8s.io/v1beta1",
    kind: "ExecCredential",
    spec: {
      interactive: false,
      cluster: { server: "https://api.example", config: { audience: "x" } },
    },
  });
});

const failures: [string, string, string[]][] = [
  ["exit 1 with stderr", `echo "token expired, run login" >&2; exit 1`, [
    "exited with code 1",
    "token expired, run login",
  ]],
  ["prints no JSON", `echo hello`, ["its output is not a JSON ExecCredential"]],
  [
    "prints the wrong apiVersion",
    credential({ token: "x" }, "client.authentication.k8s.io/v1beta1"),
    [
      `apiVersion "client.authentication.k8s.io/v1beta1", but the kubeconfig asks for "${V1}"`,
    ],
  ],
  ["prints no credential", credential({}), [
    "neither status.token nor status.clientCertificateData",
  ]],
  ["prints half a key pair", credential({ clientCertificateData: "C" }), [
    "both clientCertificateData and clientKeyData",
  ]],
];

for (const [name, body, expected] of failures) {
  Deno.test(`execCredentialProvider() reports a plugin that ${name}, with its installHint`, async () => {
    await using dir = await tempDir();
    const command = await plugin(dir, body);
    const exec: ExecConfig = {
      command,
      apiVersion: V1,
      interactiveMode: "Never",
      installHint: "Install it with: brew install it",
    };
    const error = await assertRejects(() =>
      execCredentialProvider(exec, { terminal: false }).get()
    );
    assertStringIncludes(error.message, `Exec credential plugin "${command}" failed`);
    for (const part of expected) assertStringIncludes(error.message, part);
    assertStringIncludes(error.message, "Install it with: brew install it");
  });
}

Deno.test("execCredentialProvider() reports a missing plugin with its installHint", async () => {
  const exec: ExecConfig = {
    command: "mca-no-such-plugin",
    apiVersion: V1,
    interactiveMode: "Never",
    installHint: "See https://example/install",
  };
  const error = await assertRejects(() => execCredentialProvider(exec, { terminal: false }).get());
  assertStringIncludes(error.message, `"mca-no-such-plugin" failed: the command was not found`);
  assertStringIncludes(error.message, "See https://example/install");
});

Deno.test("execCredentialProvider() stops a plugin that hangs, and keeps its stderr", async () => {
  await using dir = await tempDir();
  const command = await plugin(dir, `echo "waiting for browser" >&2; exec sleep 30`);
  const exec: ExecConfig = {
    command,
    apiVersion: V1,
    interactiveMode: "Never",
    installHint: "hint",
  };
  const started = Date.now();
  const error = await assertRejects(() =>
    execCredentialProvider(exec, { terminal: false, timeoutMs: 300 }).get()
  );
  assertStringIncludes(error.message, "did not finish within 0.3 s");
  assert(Date.now() - started < 10_000, "the plugin is killed, not awaited");
});

Deno.test("execCredentialProvider() refuses interactiveMode Always without a terminal", async () => {
  const exec: ExecConfig = { command: "/bin/true", apiVersion: V1, interactiveMode: "Always" };
  await assertRejects(
    () => execCredentialProvider(exec, { terminal: false }).get(),
    Error,
    "requires an interactive terminal",
  );
});

Deno.test("parseExecCredential() reads the expiry and rejects a bad timestamp", () => {
  const ok = parseExecCredential(
    JSON.stringify({
      apiVersion: V1,
      kind: "ExecCredential",
      status: { token: "t", expirationTimestamp: "2030-01-01T00:00:00Z" },
    }),
    V1,
  );
  assertEquals(ok.expiresAt?.toISOString(), "2030-01-01T00:00:00.000Z");
  let message = "";
  try {
    parseExecCredential(
      JSON.stringify({
        apiVersion: V1,
        kind: "ExecCredential",
        status: { token: "t", expirationTimestamp: "soon" },
      }),
      V1,
    );
  } catch (error) {
    message = (error as Error).message;
  }
  assertStringIncludes(message, `invalid status.expirationTimestamp "soon"`);
});
