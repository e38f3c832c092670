/**
 * Smoke test of a compiled mca binary, run as the image runs it (uid 65532, nothing writable,
 * no DENO_DIR; see _locked_down.ts):
 *
 *   MCA_BINARY=dist/mca-linux-amd64 scripts/deno test --allow-all tests/release/binary_smoke_test.ts
 *
 * Every mode imports its code lazily (main.ts), so each case below makes one of those modules
 * run: its output, or its own validation error, must be exactly what `deno run main.ts` prints.
 * A module left out of the binary, an npm package it cannot load, or a warning about a cache it
 * cannot write would all show up as a difference. Without MCA_BINARY the tests are ignored.
 * Run as root, the binary must be readable by uid 65532 (put it under /tmp, not under /root).
 */
import { resolve } from "node:path";
import { parse } from "yaml";
import { assertEquals } from "../_utils/assert.ts";
import { createTestPki } from "../_utils/test_pki.ts";
import { freePort, startManagedProcess } from "../../src/testenv/mod.ts";
import { waitFor } from "../../src/common/mod.ts";
import { CLUSTER_HEADER } from "../../src/forward/mod.ts";
import {
  collect,
  lockedDownArgv,
  type LockedDownOptions,
  runLockedDown,
  runningAsRoot,
  type RunResult,
} from "./_locked_down.ts";

const BINARY = Deno.env.get("MCA_BINARY");
/**
 * The binary's CPU as `mca version -o json` names it (x86_64, aarch64) when it is not this
 * machine's: an arm64 build run under qemu-user-static. Its own platform then differs from the
 * source's, and only there.
 */
const BINARY_ARCH = Deno.env.get("MCA_BINARY_ARCH");
const GO_ARCH: Record<string, string> = { x86_64: "amd64", aarch64: "arm64" };
const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const EXAMPLE_APP = new URL("../../examples/app.yaml", import.meta.url);
const UPSTREAM_TOKEN = "upstream-token";

/** Commands whose output the binary must reproduce; the files are in the read-only folder. */
const SAME_AS_SOURCE: string[] = [
  "version",
  "version -o json",
  "--help",
  "inject --help",
  "webhook --help",
  "proxy --help",
  "proxy explain --help",
  "hub --help",
  "agent --help",
  "agent install --help",
  "agent manifest --help",
  "kubeconfig --help",
  "check --help",
  "agent uninstall --help",
  "bogus",
  // Each lazily imported module runs in one case at least.
  "inject -f app.yaml",
  "proxy explain --kubeconfig clusters.kubeconfig --contexts a,b POST /api/v1/namespaces/shop/configmaps -f configmap.yaml",
  "proxy --kubeconfig missing.kubeconfig --contexts a",
  "webhook --kubeconfig missing.kubeconfig",
  "check --kubeconfig missing.kubeconfig",
  "agent uninstall --kubeconfig missing.kubeconfig --cluster east --member-context east",
  "hub --kubeconfig missing.kubeconfig",
  "agent",
  "agent manifest --hub https://hub.example.com:9443 --cluster east --hub-ca-file hub-ca.crt",
  "agent install --kubeconfig missing.kubeconfig",
  "kubeconfig --kubeconfig missing.kubeconfig",
];

for (const command of SAME_AS_SOURCE) {
  const args = command.split(" ");
  Deno.test({
    name: `compiled binary, locked down: mca ${command} answers as deno run main.ts does` +
      (BINARY ? "" : " (set MCA_BINARY)"),
    ignore: !BINARY,
    fn: async () => {
      await using box = await sandbox();
      const [binary, source] = await Promise.all([
        runLockedDown(resolve(BINARY!), args, box.lockedDown),
        runSource(args, box.lockedDown.readOnlyDir),
      ]);
      assertEquals(
        asThisMachine(binary),
        source,
        `mca ${command}: the binary differs from the source`,
      );
    },
  });
}

Deno.test({
  name: "compiled binary, locked down: mca version is deno.json's version" +
    (BINARY ? "" : " (set MCA_BINARY)"),
  ignore: !BINARY,
  fn: async () => {
    await using box = await sandbox();
    const result = await runLockedDown(resolve(BINARY!), ["version", "-o", "json"], box.lockedDown);
    assertEquals(result.code, 0, result.stderr);
    const denoJson = JSON.parse(
      await Deno.readTextFile(new URL("../../deno.json", import.meta.url)),
    );
    assertEquals(JSON.parse(result.stdout).mca, denoJson.version);
    assertEquals(JSON.parse(result.stdout).arch, BINARY_ARCH ?? Deno.build.arch);
  },
});

Deno.test({
  name: "compiled binary, locked down: mca proxy serves TLS and forwards to its cluster" +
    (BINARY ? "" : " (set MCA_BINARY)"),
  ignore: !BINARY,
  // The proxy's log copier outlives the test body by a moment; the process itself is stopped.
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const upstream = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, fakeApiServer);
    await using box = await sandbox({ upstreamPort: upstream.addr.port });
    const [listen, health] = [freePort(), freePort()];
    const kubeconfigOut = `${box.writableDir}/proxy.kubeconfig`;
    const proxy = await startManagedProcess(
      "proxy",
      "env",
      lockedDownArgv(resolve(BINARY!), [
        "proxy",
        "--kubeconfig",
        "clusters.kubeconfig",
        "--contexts",
        "a",
        "--listen",
        `127.0.0.1:${listen}`,
        "--health-listen",
        `127.0.0.1:${health}`,
        "--write-kubeconfig",
        kubeconfigOut,
      ], box.lockedDown),
      { logPath: `${box.writableDir}/proxy.log`, cwd: box.lockedDown.readOnlyDir },
    );
    try {
      await waitFor(async () => (await fetch(`http://127.0.0.1:${health}/readyz`)).status === 200, {
        description: "the compiled proxy to be ready",
      }).catch(async (error) => {
        throw new Error(`${error.message}\n${await proxy.tail()}`);
      });
      const written = parse(await Deno.readTextFile(kubeconfigOut));
      const caPem = atob(written.clusters[0].cluster["certificate-authority-data"]);
      using client = Deno.createHttpClient({ caCerts: [caPem] });
      const response = await fetch(`https://127.0.0.1:${listen}/api/v1/namespaces/shop`, {
        client,
        headers: { authorization: `Bearer ${written.users[0].user.token}` },
      });
      const body = await response.json();
      assertEquals(response.status, 200, JSON.stringify(body));
      assertEquals(body.metadata.name, "shop");
      assertEquals(response.headers.get(CLUSTER_HEADER), "a");
    } finally {
      await proxy.stop();
      await upstream.shutdown();
    }
  },
});

/** A Kubernetes API server that knows one namespace and requires the kubeconfig's token. */
function fakeApiServer(request: Request): Response {
  const path = new URL(request.url).pathname;
  if (request.headers.get("authorization") !== `Bearer ${UPSTREAM_TOKEN}`) {
    return Response.json({ kind: "Status", apiVersion: "v1", status: "Failure", code: 401 }, {
      status: 401,
    });
  }
  if (path === "/api/v1/namespaces/shop") {
    return Response.json({ kind: "Namespace", apiVersion: "v1", metadata: { name: "shop" } });
  }
  return Response.json({ kind: "Status", apiVersion: "v1", status: "Failure", code: 404 }, {
    status: 404,
  });
}

/** The binary's output as if it ran on this machine's CPU (see BINARY_ARCH). */
function asThisMachine(result: RunResult): RunResult {
  if (!BINARY_ARCH || BINARY_ARCH === Deno.build.arch) return result;
  const swap = (text: string) =>
    text
      .replace(
        `platform linux/${GO_ARCH[BINARY_ARCH] ?? BINARY_ARCH}`,
        `platform linux/${GO_ARCH[Deno.build.arch] ?? Deno.build.arch}`,
      )
      .replace(`"arch": "${BINARY_ARCH}"`, `"arch": "${Deno.build.arch}"`);
  return { ...result, stdout: swap(result.stdout) };
}

function runSource(args: string[], cwd: string): Promise<RunResult> {
  return collect(
    new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", "--quiet", MAIN, ...args],
      cwd,
      stdin: "null",
    }),
  );
}

interface Sandbox extends AsyncDisposable {
  lockedDown: LockedDownOptions;
  /** A folder the locked-down process may write to (an emptyDir in the pod). */
  writableDir: string;
}

/** A read-only folder holding the cases' input files, and a writable one beside it. */
async function sandbox(options: { upstreamPort?: number } = {}): Promise<Sandbox> {
  const root = await Deno.makeTempDir({ prefix: "mca-smoke-" });
  await Deno.chmod(root, 0o755);
  const readOnlyDir = `${root}/ro`;
  const writableDir = `${root}/rw`;
  await Deno.mkdir(readOnlyDir);
  await Deno.mkdir(writableDir);
  await Deno.chmod(writableDir, 0o777);
  const { ca } = await createTestPki();
  const server = `http://127.0.0.1:${options.upstreamPort ?? 1}`;
  const files: Record<string, string> = {
    "app.yaml": await Deno.readTextFile(EXAMPLE_APP),
    "configmap.yaml": CONFIGMAP,
    "clusters.kubeconfig": kubeconfig(server),
    "hub-ca.crt": ca.certificatePem,
  };
  for (const [name, text] of Object.entries(files)) {
    await Deno.writeTextFile(`${readOnlyDir}/${name}`, text, { mode: 0o644 });
  }
  await Deno.chmod(readOnlyDir, 0o555);
  return {
    lockedDown: { readOnlyDir, dropToNonRoot: runningAsRoot() },
    writableDir,
    async [Symbol.asyncDispose]() {
      await Deno.chmod(readOnlyDir, 0o755);
      await Deno.remove(root, { recursive: true });
    },
  };
}

const CONFIGMAP = `apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: shop
  labels: {mca.k8s.io/cluster: b}
data: {color: blue}
`;

function kubeconfig(server: string): string {
  return `apiVersion: v1
kind: Config
clusters:
- name: a
  cluster: {server: "${server}"}
- name: b
  cluster: {server: "http://127.0.0.1:1"}
users:
- name: u
  user: {token: ${UPSTREAM_TOKEN}}
contexts:
- name: a
  context: {cluster: a, user: u}
- name: b
  context: {cluster: b, user: u}
current-context: a
`;
}
