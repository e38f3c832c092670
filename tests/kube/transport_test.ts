import { assert, assertEquals, assertRejects, assertStringIncludes } from "../_utils/assert.ts";
import { type ClientConfig, createKubeTransport } from "../../src/kube/mod.ts";
import { createCertificateAuthority, issueCertificate } from "../../src/pki/mod.ts";
import { createLogger } from "../../src/log/mod.ts";
import { startHttpsRecorder } from "../_utils/https_recorder.ts";
import { createTestPki } from "../_utils/test_pki.ts";
import { startConnectProxy } from "../_utils/connect_proxy.ts";
import { tempDir } from "../_utils/temp_dir.ts";
import { RequestTargetError } from "../../src/request_target.ts";

function configFor(server: string, overrides: Partial<ClientConfig> = {}): ClientConfig {
  return {
    server,
    tls: { insecureSkipVerify: false },
    disableCompression: false,
    credentials: { type: "none" },
    namespace: "default",
    source: "test",
    ...overrides,
  };
}

Deno.test("createKubeTransport() sends the bearer token, a user agent and keeps the server's path prefix", async () => {
  const pki = await createTestPki();
  const server = await startHttpsRecorder(pki);
  const transport = createKubeTransport(configFor(`${server.url}/k8s/clusters/east`, {
    tls: { caPem: pki.ca.certificatePem, insecureSkipVerify: false },
    credentials: { type: "token", token: "s3cret" },
  }));
  try {
    const response = await transport.fetch("/api/v1/namespaces?limit=1");
    assertEquals(response.status, 200);
    await response.body?.cancel();
    const [seen] = server.requests;
    assertEquals(seen?.path, "/k8s/clusters/east/api/v1/namespaces?limit=1");
    assertEquals(seen?.headers.authorization, "Bearer s3cret");
    assertStringIncludes(String(seen?.headers["user-agent"]), "mca/v");
  } finally {
    transport.close();
    await server.close();
  }
});

Deno.test("createKubeTransport() presents the client certificate and impersonation headers", async () => {
  const pki = await createTestPki();
  const server = await startHttpsRecorder(pki);
  const alice = await issueCertificate(pki.ca, { commonName: "alice", usages: ["client"] });
  const transport = createKubeTransport(configFor(server.url, {
    tls: {
      caPem: pki.ca.certificatePem,
      certPem: alice.certificatePem,
      keyPem: alice.privateKeyPem,
      insecureSkipVerify: false,
    },
    impersonate: {
      user: "bob",
      uid: "7",
      groups: ["g1", "g2"],
      extra: { "example.com/scope": ["a", "b"] },
    },
  }));
  try {
    await (await transport.fetch("/version")).body?.cancel();
    const seen = server.requests[0]!;
    assertEquals(seen.clientCommonName, "alice");
    assertEquals(seen.headers["impersonate-user"], "bob");
    assertEquals(seen.headers["impersonate-uid"], "7");
    assertEquals(seen.headers["impersonate-group"], "g1, g2");
    assertEquals(seen.headers["impersonate-extra-example.com%2fscope"], "a, b");
    assertEquals(seen.headers.authorization, undefined);
  } finally {
    transport.close();
    await server.close();
  }
});

Deno.test("createKubeTransport() verifies the server against the CA and never against nothing", async () => {
  const pki = await createTestPki();
  const server = await startHttpsRecorder(pki);
  const other = await createCertificateAuthority();
  try {
    for (
      const tls of [{ insecureSkipVerify: false }, {
        caPem: other.certificatePem,
        insecureSkipVerify: false,
      }]
    ) {
      const transport = createKubeTransport(configFor(server.url, { tls }));
      await assertRejects(() => transport.fetch("/version"));
      transport.close();
    }
    assertEquals(server.requests.length, 0);
  } finally {
    await server.close();
  }
});

Deno.test("createKubeTransport() checks the certificate against tls-server-name", async () => {
  const ca = await createCertificateAuthority();
  // A certificate for a name only: reaching it by IP needs tls-server-name.
  const named = await issueCertificate(ca, { commonName: "api", dnsNames: ["api.internal"] });
  const server = await startHttpsRecorder({ ca, server: named });
  try {
    const plain = createKubeTransport(
      configFor(server.url, { tls: { caPem: ca.certificatePem, insecureSkipVerify: false } }),
    );
    await assertRejects(() => plain.fetch("/version"));
    plain.close();
    const wrongName = createKubeTransport(configFor(server.url, {
      tls: { caPem: ca.certificatePem, serverName: "other.internal", insecureSkipVerify: false },
    }));
    await assertRejects(() => wrongName.fetch("/version"));
    wrongName.close();
    const transport = createKubeTransport(configFor(server.url, {
      tls: { caPem: ca.certificatePem, serverName: "api.internal", insecureSkipVerify: false },
      credentials: { type: "token", token: "t" },
    }));
    const response = await transport.fetch("/version", { method: "POST", body: "payload" });
    assertEquals(response.status, 200);
    assertEquals(await response.text(), "{}");
    assertEquals(server.requests[0]?.serverName, "api.internal");
    assertEquals(server.requests[0]?.body, "payload");
    assertEquals(server.requests[0]?.headers.authorization, "Bearer t");
    transport.close();
  } finally {
    await server.close();
  }
});

Deno.test("createKubeTransport() skips verification only when told, and warns", async () => {
  const pki = await createTestPki();
  const server = await startHttpsRecorder(pki);
  const lines: string[] = [];
  const transport = createKubeTransport(
    configFor(server.url, { tls: { insecureSkipVerify: true } }),
    {
      logger: createLogger({ write: (line) => lines.push(line) }),
    },
  );
  try {
    assertEquals((await transport.fetch("/version")).status, 200);
    assertEquals(lines.length, 1);
    assertStringIncludes(lines[0]!, "TLS verification is switched off by insecure-skip-tls-verify");
  } finally {
    transport.close();
    await server.close();
  }
});

Deno.test("createKubeTransport() tunnels through proxy-url", async () => {
  const pki = await createTestPki();
  const server = await startHttpsRecorder(pki);
  const proxy = startConnectProxy();
  const transport = createKubeTransport(configFor(server.url, {
    tls: { caPem: pki.ca.certificatePem, insecureSkipVerify: false },
    proxyUrl: proxy.url,
  }));
  try {
    assertEquals((await transport.fetch("/healthz")).status, 200);
    assertEquals(proxy.targets, [`127.0.0.1:${server.port}`]);
    assertEquals(server.requests.length, 1);
  } finally {
    transport.close();
    proxy.close();
    await server.close();
  }
});

Deno.test("createKubeTransport() runs the exec plugin again after a 401 and uses its new token", async () => {
  await using dir = await tempDir();
  // Each run prints the next token: t1, t2, ...
  const command = await dir.write(
    "plugin.sh",
    `#!/bin/sh\nn=$(( $(cat "$(dirname "$0")/n" 2>/dev/null || echo 0) + 1 ))\necho $n > "$(dirname "$0")/n"\n` +
      `printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"t%s"}}' $n\n`,
    0o755,
  );
  const pki = await createTestPki();
  const server = await startHttpsRecorder(
    pki,
    (request) =>
      request.headers.authorization === "Bearer t1"
        ? { status: 401, body: '{"kind":"Status","code":401}' }
        : {},
  );
  const transport = createKubeTransport(
    configFor(server.url, {
      tls: { caPem: pki.ca.certificatePem, insecureSkipVerify: false },
      credentials: {
        type: "exec",
        exec: { command, apiVersion: "client.authentication.k8s.io/v1", interactiveMode: "Never" },
      },
    }),
    { exec: { terminal: false } },
  );
  try {
    assertEquals((await transport.fetch("/api")).status, 401);
    assertEquals((await transport.fetch("/api")).status, 200);
    assertEquals((await transport.fetch("/api")).status, 200);
    assertEquals(server.requests.map((r) => r.headers.authorization), [
      "Bearer t1",
      "Bearer t2",
      "Bearer t2",
    ]);
  } finally {
    transport.close();
    await server.close();
  }
});

Deno.test("createKubeTransport() uses a client certificate returned by an exec plugin", async () => {
  await using dir = await tempDir();
  const pki = await createTestPki();
  const robot = await issueCertificate(pki.ca, { commonName: "exec-robot", usages: ["client"] });
  const credential = JSON.stringify({
    apiVersion: "client.authentication.k8s.io/v1",
    kind: "ExecCredential",
    status: { clientCertificateData: robot.certificatePem, clientKeyData: robot.privateKeyPem },
  });
  await dir.write("credential.json", credential);
  const command = await dir.write(
    "plugin.sh",
    `#!/bin/sh\ncat "$(dirname "$0")/credential.json"\n`,
    0o755,
  );
  const server = await startHttpsRecorder(pki);
  const transport = createKubeTransport(
    configFor(server.url, {
      tls: { caPem: pki.ca.certificatePem, insecureSkipVerify: false },
      credentials: {
        type: "exec",
        exec: { command, apiVersion: "client.authentication.k8s.io/v1", interactiveMode: "Never" },
      },
    }),
    { exec: { terminal: false } },
  );
  try {
    assertEquals((await transport.fetch("/api")).status, 200);
    assertEquals(server.requests[0]?.clientCommonName, "exec-robot");
  } finally {
    transport.close();
    await server.close();
  }
});

Deno.test("createKubeTransport() picks up a rotated token file after a 401", async () => {
  await using dir = await tempDir();
  const tokenPath = await dir.write("token", "old-token");
  const pki = await createTestPki();
  const server = await startHttpsRecorder(
    pki,
    (request) => request.headers.authorization === "Bearer old-token" ? { status: 401 } : {},
  );
  const transport = createKubeTransport(configFor(server.url, {
    tls: { caPem: pki.ca.certificatePem, insecureSkipVerify: false },
    credentials: { type: "tokenFile", path: tokenPath },
  }));
  try {
    assertEquals((await transport.fetch("/api")).status, 401);
    await Deno.writeTextFile(tokenPath, "new-token");
    assertEquals((await transport.fetch("/api")).status, 200);
    assert(server.requests.at(-1)?.headers.authorization === "Bearer new-token");
  } finally {
    transport.close();
    await server.close();
  }
});

Deno.test("createKubeTransport() refuses a path that would leave the server's prefix, before sending", async () => {
  const pki = await createTestPki();
  const server = await startHttpsRecorder(pki);
  const transport = createKubeTransport(configFor(`${server.url}/k8s/clusters/c-1`, {
    tls: { caPem: pki.ca.certificatePem, insecureSkipVerify: false },
  }));
  try {
    for (const path of ["/../../v3/users", "/api/%2e%2e/%2e%2e/v3", "/api\\..\\..\\v3", "-2/api"]) {
      await assertRejects(() => transport.fetch(path), RequestTargetError);
    }
    assertEquals(server.requests.length, 0);
  } finally {
    transport.close();
    await server.close();
  }
});
