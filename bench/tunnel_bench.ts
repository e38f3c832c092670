/**
 * The tunnel side by side in one run: direct access to a member's API server, mca (hub +
 * agent, wss + yamux, TLS both hops), and rancher/remotedialer (the peer, built from the Go
 * module proxy, plain ws) — small GET latency, a large LIST's throughput, 1000 concurrent
 * streams on one agent, and the hub's memory per idle agent. jpillora/chisel, the other peer
 * the issue names, is not available from our Go module proxy (403).
 */
import { join } from "node:path";
import {
  AGENT_TOKEN_LABEL,
  agentTokenSecretName,
  hashToken,
  newAgentToken,
  TOKEN_HASH_KEY,
} from "../src/members/mod.ts";
import { renderKubeconfig } from "../src/kube/mod.ts";
import { computeCaPin } from "../src/pki/mod.ts";
import {
  freePort,
  type ManagedProcess,
  startManagedProcess,
  startTestEnv,
} from "../src/testenv/mod.ts";
import { waitFor } from "../src/common/mod.ts";
import { kubectlOk } from "../tests/_utils/e2e.ts";
import { createTestPki } from "../tests/_utils/test_pki.ts";
import { startMca } from "../tests/_utils/mca_process.ts";
import { guardedPid, rssMiB } from "./_process_memory.ts";
import type { BenchResult, Row } from "./_report.ts";
import { runWrk } from "./_wrk.ts";
import { startMcaProxy } from "./proxy_bench.ts";
import { measureCpuPerGet } from "./tunnel/cpu_per_get.ts";

const SECONDS = Number(Deno.env.get("MCA_BENCH_SECONDS") ?? 5);
const IDLE_AGENTS = Number(Deno.env.get("MCA_BENCH_IDLE_AGENTS") ?? 200);
// 1: only the CPU per small GET (hub, agent, sidecar), for profiling rounds.
const CPU_ONLY = Deno.env.get("MCA_BENCH_TUNNEL_CPU_ONLY") === "1";
const CRD = new URL("../deploy/crds/clusters.mca.k8s.io.yaml", import.meta.url).pathname;

async function buildPeer(): Promise<string> {
  const cache = join(
    Deno.env.get("XDG_CACHE_HOME") || join(Deno.env.get("HOME") ?? "/tmp", ".cache"),
    "mca",
    "bench",
  );
  await Deno.mkdir(cache, { recursive: true });
  const binary = join(cache, "remotedialer");
  const output = await new Deno.Command("go", {
    args: ["build", "-o", binary, "."],
    cwd: new URL("./peers/remotedialer/", import.meta.url).pathname,
    stderr: "piped",
  }).output();
  if (!output.success) {
    throw new Error(
      `Building the remotedialer peer failed: ${new TextDecoder().decode(output.stderr)}`,
    );
  }
  return binary;
}

/** client → relay → relay → member, each hop its own TLS connection (bench/tunnel/tls_relay.ts). */
async function startRelayChain(dir: string, memberUrl: string, memberCaFile: string) {
  const pki = await createTestPki();
  await Deno.writeTextFile(`${dir}/relay-ca.crt`, pki.ca.certificatePem);
  await Deno.writeTextFile(`${dir}/relay.crt`, pki.server.certificatePem);
  await Deno.writeTextFile(`${dir}/relay.key`, pki.server.privateKeyPem);
  const script = new URL("./tunnel/tls_relay.ts", import.meta.url).pathname;
  const processes: ManagedProcess[] = [];
  let upstream = new URL(memberUrl).host;
  let upstreamCa = memberCaFile;
  for (const name of ["relay-member-side", "relay-client-side"]) {
    const port = freePort();
    const relay = await startManagedProcess(name, Deno.execPath(), [
      "run",
      "--allow-all",
      script,
      String(port),
      upstream,
      upstreamCa,
      `${dir}/relay.crt`,
      `${dir}/relay.key`,
    ], { logPath: `${dir}/${name}.log` });
    processes.push(relay);
    await waitForLine(relay, "ready");
    upstream = `127.0.0.1:${port}`;
    upstreamCa = `${dir}/relay-ca.crt`;
  }
  return { url: `https://${upstream}`, processes };
}

async function waitForLine(process: ManagedProcess, text: string): Promise<void> {
  await waitFor(async () => (await process.tail(50)).includes(text), {
    description: `"${text}" from ${process.name}`,
  });
}

const SMALL_GET = "/api/v1/namespaces/bench/configmaps/small";

/**
 * CPU per small GET in the hub and the agent (one wrk run through both) next to the sidecar's,
 * `mca proxy` in front of the same member: the same HTTP work without the tunnel.
 */
async function cpuPerGetRows(
  dir: string,
  memberKubeconfig: string,
  tunnel: { url: string; headers: string[]; hubPid: number; agentPid: number },
  processes: ManagedProcess[],
): Promise<BenchResult> {
  const sidecar = await startMcaProxy(dir, memberKubeconfig, "m");
  processes.push(sidecar.process);
  const sidecarPid = guardedPid(sidecar.process.pid) ?? sidecar.process.pid;
  const sidecarHeaders = [`Authorization: Bearer ${sidecar.token}`];
  // Warm up both paths first (JIT, pools, the hub's auth caches).
  const warm = { connections: 4, seconds: 2 };
  await runWrk(`${sidecar.url}${SMALL_GET}`, { ...warm, headers: sidecarHeaders });
  await runWrk(tunnel.url, { ...warm, headers: tunnel.headers });
  const rows: Row[] = [
    { name: "sidecar", values: {} },
    { name: "hub", values: {} },
    { name: "agent", values: {} },
  ];
  // At 16 connections a process handles several requests per wakeup; at 1, each alone.
  for (const connections of [16, 1]) {
    const run = { connections, seconds: SECONDS };
    const alone = await measureCpuPerGet(`${sidecar.url}${SMALL_GET}`, { sidecar: sidecarPid }, {
      ...run,
      headers: sidecarHeaders,
    });
    const through = await measureCpuPerGet(tunnel.url, {
      hub: tunnel.hubPid,
      agent: tunnel.agentPid,
    }, { ...run, headers: tunnel.headers });
    for (
      const [row, result, name] of [
        [rows[0]!, alone, "sidecar"],
        [rows[1]!, through, "hub"],
        [rows[2]!, through, "agent"],
      ] as const
    ) {
      row.values[`µs CPU, ${connections} conn.`] = result.microseconds[name]!;
      row.values[`req/s, ${connections} conn.`] = result.requestsPerSecond;
      if (result.errors) row.name += ` (${result.errors} errors at ${connections} conn.)`;
    }
  }
  await sidecar.process.stop(2_000);
  return {
    title:
      "CPU per small GET: hub and agent (one run through both) against the sidecar (mca proxy)",
    rows,
    ratios: true,
  };
}

/** Runs the tunnel benchmark. */
export async function tunnelBench(): Promise<BenchResult[]> {
  const dir = await Deno.makeTempDir({ prefix: "mca-bench-tunnel-" });
  const env = await startTestEnv({ clusters: ["host", "member"] });
  const processes: ManagedProcess[] = [];
  try {
    const host = env.cluster("host");
    const member = env.cluster("member");
    const hubNs = "mca-bench";
    await kubectlOk(host, ["apply", "-f", CRD]);
    await kubectlOk(host, [
      "wait",
      "--for=condition=Established",
      "crd/clusters.mca.k8s.io",
      "--timeout=30s",
    ]);
    await kubectlOk(host, ["create", "namespace", hubNs]);
    await waitFor(() =>
      host.client.create("/apis/mca.k8s.io/v1alpha1/clusters", {
        apiVersion: "mca.k8s.io/v1alpha1",
        kind: "Cluster",
        metadata: { name: "member" },
      }).then(() => true)
    );
    const token = newAgentToken();
    await host.client.create(`/api/v1/namespaces/${hubNs}/secrets`, {
      metadata: { name: agentTokenSecretName("member"), labels: { [AGENT_TOKEN_LABEL]: "true" } },
      data: { [TOKEN_HASH_KEY]: btoa(await hashToken(token)) },
    });
    const tokenFile = `${dir}/agent-token`;
    await Deno.writeTextFile(tokenFile, token);
    // The agent impersonates; this member's admin group is what the caller (host admin) carries.
    const memberKubeconfig = `${dir}/member.kubeconfig`;
    await Deno.writeTextFile(
      memberKubeconfig,
      renderKubeconfig([{
        name: "m",
        server: member.url,
        caPem: member.caPem,
        user: { token: member.adminToken },
      }]),
    );

    // Data: one small object and a LIST of about 16 MB.
    await member.client.create("/api/v1/namespaces", { metadata: { name: "bench" } });
    await member.client.create("/api/v1/namespaces/bench/configmaps", {
      metadata: { name: "small" },
      data: { a: "1" },
    });
    for (let i = 0; i < (CPU_ONLY ? 0 : 2000); i += 100) {
      await Promise.all(
        Array.from(
          { length: 100 },
          (_, j) =>
            member.client.create("/api/v1/namespaces/bench/configmaps", {
              metadata: { name: `big-${i + j}`, labels: { set: "big" } },
              data: { blob: "x".repeat(8 * 1024) },
            }),
        ),
      );
    }

    const hubPort = freePort();
    const hub = await startMca([
      "hub",
      `--kubeconfig=${host.kubeconfigPath}`,
      `--namespace=${hubNs}`,
      `--listen=127.0.0.1:${hubPort}`,
      "--ip-addresses=127.0.0.1",
      "--dns-names=localhost",
      "--log-level=warn",
      // The 1000-stream row is one caller's 1000 requests at once: no per-caller limit (100).
      "--max-requests-per-caller=0",
    ], { dir, name: "hub", env: { DENO_V8_FLAGS: "--max-semi-space-size=4" } });
    processes.push(hub);
    const caSecret = await waitFor(
      () =>
        host.client.get<{ data: Record<string, string> }>(
          `/api/v1/namespaces/${hubNs}/secrets/mca-hub-ca`,
        ).catch(() => undefined),
      { description: "the hub's CA" },
    );
    const hubCaPem = atob(caSecret.data["ca.crt"]!);
    const hubClient = Deno.createHttpClient({ caCerts: [hubCaPem] });
    await waitFor(
      async () =>
        (await fetch(`https://127.0.0.1:${hubPort}/healthz`, { client: hubClient }).then((r) =>
          r.text()
        )) === "ok",
      {
        description: "the hub to listen",
      },
    );
    hubClient.close();
    const hubCaFile = `${dir}/hub-ca.crt`;
    await Deno.writeTextFile(hubCaFile, hubCaPem);
    const agent = await startMca([
      "agent",
      `--hub=https://127.0.0.1:${hubPort}`,
      "--cluster=member",
      `--token-file=${tokenFile}`,
      `--hub-ca-file=${hubCaFile}`,
      `--hub-ca-pin=${await computeCaPin(hubCaPem)}`,
      `--member-kubeconfig=${memberKubeconfig}`,
      "--health-listen=",
      "--log-format=text",
    ], { dir, name: "agent" });
    processes.push(agent);
    await waitForLine(agent, "connected to the hub");
    const cpu = await cpuPerGetRows(dir, memberKubeconfig, {
      url: `https://127.0.0.1:${hubPort}/clusters/member${SMALL_GET}`,
      headers: [`Authorization: Bearer ${host.adminToken}`],
      hubPid: guardedPid(hub.pid) ?? hub.pid,
      agentPid: guardedPid(agent.pid) ?? agent.pid,
    }, processes);
    if (CPU_ONLY) return [cpu];

    const peer = await buildPeer();
    const memberCa = `${dir}/member-ca.crt`;
    await Deno.writeTextFile(memberCa, member.caPem);
    const peerPort = freePort();
    const peerServer = await startManagedProcess("remotedialer-server", peer, [
      "server",
      `127.0.0.1:${peerPort}`,
      member.url,
      memberCa,
      member.adminToken,
    ], { logPath: `${dir}/peer-server.log` });
    processes.push(peerServer);
    await waitForLine(peerServer, "listening");
    const peerClient = await startManagedProcess("remotedialer-client", peer, [
      "client",
      `ws://127.0.0.1:${peerPort}/connect`,
    ], { logPath: `${dir}/peer-client.log` });
    processes.push(peerClient);
    await waitFor(
      async () =>
        (await fetch(`http://127.0.0.1:${peerPort}/version`).then((r) => r.status, () => 0)) ===
          200,
      { description: "the peer tunnel" },
    );

    const targets = [
      { name: "direct", base: member.url, headers: [`Authorization: Bearer ${member.adminToken}`] },
      {
        name: "mca hub + agent",
        base: `https://127.0.0.1:${hubPort}/clusters/member`,
        headers: [`Authorization: Bearer ${host.adminToken}`],
      },
      { name: "remotedialer (peer)", base: `http://127.0.0.1:${peerPort}`, headers: [] },
    ];
    const listPath = "/api/v1/namespaces/bench/configmaps?labelSelector=set%3Dbig";
    const listBytes = (await (await fetch(`${member.url}${listPath}`, {
      headers: { Authorization: `Bearer ${member.adminToken}` },
      client: Deno.createHttpClient({ caCerts: [member.caPem] }),
    })).arrayBuffer()).byteLength;
    const small: Row[] = [];
    const unloaded: Row[] = [];
    const large: Row[] = [];
    const gzipped: Row[] = [];
    const many: Row[] = [];
    for (const target of targets) {
      // Warm up first (JIT, connection pools, the hub's auth caches): steady state is measured.
      await runWrk(`${target.base}${SMALL_GET}`, {
        connections: 4,
        seconds: 2,
        headers: target.headers,
      });
      const s = await runWrk(`${target.base}${SMALL_GET}`, {
        connections: 16,
        seconds: SECONDS,
        headers: target.headers,
      });
      small.push({
        name: `${target.name}${s.errors ? ` (${s.errors} errors)` : ""}`,
        values: { "req/s": s.requestsPerSecond, "p50 ms": s.p50Ms, "p99 ms": s.p99Ms },
      });
      // One request at a time: the latency the tunnel adds when nothing queues.
      const one = await runWrk(`${target.base}${SMALL_GET}`, {
        connections: 1,
        seconds: SECONDS,
        headers: target.headers,
      });
      unloaded.push({
        name: `${target.name}${one.errors ? ` (${one.errors} errors)` : ""}`,
        values: { "p50 ms": one.p50Ms, "p99 ms": one.p99Ms },
      });
      const l = await runWrk(`${target.base}${listPath}`, {
        connections: 2,
        seconds: SECONDS * 2,
        headers: target.headers,
      });
      large.push({
        name: `${target.name}${l.errors ? ` (${l.errors} errors)` : ""}`,
        values: { "MB/s": (l.requestsPerSecond * listBytes) / 1e6, "p50 ms": l.p50Ms },
      });
      // kubectl and client-go ask for gzip, which kube-apiserver applies to large answers: the
      // tunnel then carries a tenth of the bytes. Counted in uncompressed MB, as above.
      const z = await runWrk(`${target.base}${listPath}`, {
        connections: 2,
        seconds: SECONDS * 2,
        headers: [...target.headers, "Accept-Encoding: gzip"],
      });
      gzipped.push({
        name: `${target.name}${z.errors ? ` (${z.errors} errors)` : ""}`,
        values: { "MB/s": (z.requestsPerSecond * listBytes) / 1e6, "p50 ms": z.p50Ms },
      });
      const m = await runWrk(`${target.base}${SMALL_GET}`, {
        connections: 1000,
        seconds: SECONDS,
        headers: target.headers,
      });
      many.push({
        name: target.name,
        values: { "req/s": m.requestsPerSecond, "p99 ms": m.p99Ms, errors: m.errors },
      });
    }

    // The floor for the large LISTs: the three TLS hops of the tunnel and nothing else.
    const chain = await startRelayChain(dir, member.url, memberCa);
    processes.push(...chain.processes);
    for (const [rows, extra] of [[large, []], [gzipped, ["Accept-Encoding: gzip"]]] as const) {
      const r = await runWrk(`${chain.url}${listPath}`, {
        connections: 2,
        seconds: SECONDS * 2,
        headers: [`Authorization: Bearer ${member.adminToken}`, ...extra],
      });
      rows.push({
        name: `floor: 3 TLS hops, bytes piped${r.errors ? ` (${r.errors} errors)` : ""}`,
        values: { "MB/s": (r.requestsPerSecond * listBytes) / 1e6, "p50 ms": r.p50Ms },
      });
    }

    // Hub memory per idle agent: N more sessions for the same cluster.
    const hubPid = guardedPid(hub.pid) ?? hub.pid;
    const before = rssMiB(hubPid);
    const idle = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--quiet",
        new URL("./tunnel/idle_agents.ts", import.meta.url).pathname,
        `https://127.0.0.1:${hubPort}`,
        hubCaFile,
        "member",
        tokenFile,
        String(IDLE_AGENTS),
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const reader = idle.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let line = "";
    while (!line.includes("connected")) line += (await reader.read()).value ?? "";
    await new Promise((resolve) => setTimeout(resolve, 1_000)); // let the hub settle before reading its memory
    const after = rssMiB(hubPid);
    await idle.stdin.close();
    await reader.cancel();
    await idle.status;

    return [
      cpu,
      { title: "small GET through the tunnel, 16 connections", rows: small, ratios: true },
      {
        title: "small GET through the tunnel, 1 connection (latency unloaded)",
        rows: unloaded,
        ratios: true,
      },
      {
        title: `LIST of ${(listBytes / 1e6).toFixed(1)} MB, 2 connections`,
        rows: large,
        ratios: true,
      },
      {
        title: `LIST of ${
          (listBytes / 1e6).toFixed(1)
        } MB with Accept-Encoding: gzip (as kubectl asks), 2 connections`,
        rows: gzipped,
        ratios: true,
      },
      {
        title: "1000 concurrent streams on one agent (small GET, 1000 connections)",
        rows: many,
        ratios: false,
      },
      {
        title: `hub memory, ${IDLE_AGENTS} idle agents`,
        rows: [{
          name: "hub RSS",
          values: {
            "before MiB": before,
            "after MiB": after,
            "KiB per agent": ((after - before) * 1024) / IDLE_AGENTS,
          },
        }],
        ratios: false,
      },
    ];
  } finally {
    for (const process of processes.reverse()) await process.stop(2_000);
    await env.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
