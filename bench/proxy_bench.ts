/**
 * `mca proxy` side by side with direct access and with `kubectl proxy` (the Go peer), against
 * the same backend in one run: a static HTTPS backend (nginx serving fixture JSON, so that the
 * proxies' own cost shows) and a real kube-apiserver. wrk drives a small GET and a 1,000-item
 * LIST at a fixed concurrency, and the small GET over one connection (the latency a proxy adds
 * when it is not saturated); watchers on all three paths time the delivery of the same events;
 * the proxy's resident memory is read idle and under load. Every path presents the same bearer
 * token to the backend, so the API server does the same authentication work on each. In front
 * of nginx, minimal pass-through proxies on four Deno stacks (bench/stacks) show the ceiling
 * a proxy written for Deno reaches on this machine.
 */
import { SIDECAR_V8_FLAGS } from "../src/inject/mod.ts";
import { renderKubeconfig } from "../src/kube/mod.ts";
import {
  freePort,
  type ManagedProcess,
  startManagedProcess,
  startTestEnv,
} from "../src/testenv/mod.ts";
import { waitFor } from "../src/common/mod.ts";
import { startMca } from "../tests/_utils/mca_process.ts";
import { createTestPki, type TestPki } from "../tests/_utils/test_pki.ts";
import { guardedPid, rssMiB } from "./_process_memory.ts";
import { stalledReaderPeakMiB, type StalledTarget } from "./_stalled_readers.ts";
import type { BenchResult, Row } from "./_report.ts";
import { median } from "./_report.ts";
import { runWrk } from "./_wrk.ts";

const SECONDS = Number(Deno.env.get("MCA_BENCH_SECONDS") ?? 5);
const CONNECTIONS = Number(Deno.env.get("MCA_BENCH_CONNECTIONS") ?? 16);
const ITEMS = 1000;
const SMALL_GET = "/api/v1/namespaces/bench/configmaps/small";
/** Large answers for stalled readers: [path, MiB, clients]. */
const STALLS: [string, number, number][] = [
  ["/api/v1/namespaces/bench/configmaps/big-128", 128, 1],
  ["/api/v1/namespaces/bench/configmaps/big-32", 32, 4],
];

interface Target {
  name: string;
  url: string;
  headers: string[];
  /** The CA of an https target. */
  caPem?: string;
}

function configMap(name: string, namespace: string) {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name, namespace, labels: { app: "bench" } },
    data: { "settings.yaml": "mode: fast\nretries: 3\n", owner: "bench" },
  };
}

export async function startNginx(
  dir: string,
  pki: TestPki,
): Promise<{ url: string; process: ManagedProcess }> {
  const root = `${dir}/www`;
  const base = `${root}/api/v1/namespaces/bench/configmaps`;
  await Deno.mkdir(base, { recursive: true });
  await Deno.writeTextFile(`${base}/small.json`, JSON.stringify(configMap("small", "bench")));
  await Deno.writeTextFile(
    `${base}/index.json`,
    JSON.stringify({
      apiVersion: "v1",
      kind: "ConfigMapList",
      metadata: { resourceVersion: "1" },
      items: Array.from({ length: ITEMS }, (_, i) => configMap(`cm-${i}`, "bench")),
    }),
  );
  for (const [path, mib] of STALLS) {
    const name = path.split("/").at(-1)!;
    await Deno.writeFile(`${base}/${name}.json`, new Uint8Array(mib * 1024 * 1024).fill(120));
  }
  await Deno.writeTextFile(`${dir}/ca.crt`, pki.ca.certificatePem);
  await Deno.writeTextFile(`${dir}/tls.crt`, pki.server.certificatePem);
  await Deno.writeTextFile(`${dir}/tls.key`, pki.server.privateKeyPem);
  const port = freePort();
  await Deno.writeTextFile(
    `${dir}/nginx.conf`,
    `daemon off; master_process off; worker_processes 1; pid ${dir}/nginx.pid; error_log ${dir}/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}; proxy_temp_path ${dir}; fastcgi_temp_path ${dir}; uwsgi_temp_path ${dir}; scgi_temp_path ${dir};
  server {
    listen 127.0.0.1:${port} ssl; ssl_certificate ${dir}/tls.crt; ssl_certificate_key ${dir}/tls.key;
    keepalive_requests 1000000;
    root ${root}; default_type application/json;
    location / { try_files $uri.json $uri/index.json =404; }
  }
}
`,
  );
  const process = await startManagedProcess("nginx", "nginx", [
    "-c",
    `${dir}/nginx.conf`,
    "-p",
    dir,
  ], {
    logPath: `${dir}/nginx.log`,
  });
  const url = `https://127.0.0.1:${port}`;
  const client = Deno.createHttpClient({ caCerts: [pki.ca.certificatePem] });
  await waitFor(
    async () => (await fetch(`${url}/api/v1/namespaces/bench/configmaps/small`, { client })).ok,
    {
      description: "nginx",
    },
  );
  client.close();
  return { url, process };
}

/** The stacks bench/stacks/pass_through.ts runs, with the names the tables show. */
const PASS_THROUGH_STACKS = [
  ["node-node", "pass-through, node:https both sides"],
  ["serve-fetch", "pass-through, Deno.serve + fetch"],
  ["serve-node", "pass-through, Deno.serve + node:https"],
  ["tls-raw", "pass-through, node:tls both sides, own HTTP/1.1 (mca's stack)"],
] as const;

/** A minimal forwarding proxy on one Deno server/client stack, in front of nginx. */
async function startPassThrough(
  dir: string,
  stack: string,
  upstreamUrl: string,
): Promise<{ url: string; process: ManagedProcess }> {
  const port = freePort();
  const process = await startManagedProcess(`pass-through-${stack}`, Deno.execPath(), [
    "run",
    "--allow-all",
    new URL("./stacks/pass_through.ts", import.meta.url).pathname,
    stack,
    String(port),
    upstreamUrl,
    `${dir}/ca.crt`,
    `${dir}/tls.crt`,
    `${dir}/tls.key`,
  ], { logPath: `${dir}/pass-through-${stack}.log` });
  const url = `https://127.0.0.1:${port}`;
  const client = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(`${dir}/ca.crt`)] });
  await waitFor(
    async () => (await fetch(`${url}${SMALL_GET}`, { client })).ok,
    { description: `pass-through proxy (${stack})` },
  );
  client.close();
  return { url, process };
}

async function startKubectlProxy(
  dir: string,
  kubeconfig: string,
): Promise<{ url: string; process: ManagedProcess }> {
  const port = freePort();
  const process = await startManagedProcess("kubectl-proxy", "kubectl", [
    `--kubeconfig=${kubeconfig}`,
    "proxy",
    `--port=${port}`,
    "--address=127.0.0.1",
  ], { logPath: `${dir}/kubectl-proxy-${port}.log` });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => (await fetch(`${url}/version`).then((r) => r.body?.cancel()).then(() => true)),
    {
      description: "kubectl proxy",
    },
  );
  return { url, process };
}

/** Starts `mca proxy` (the sidecar) for one context; its URL, token and CA. */
export async function startMcaProxy(dir: string, kubeconfig: string, context: string) {
  const port = freePort();
  const written = `${dir}/mca-${port}.kubeconfig`;
  const process = await startMca([
    "proxy",
    `--kubeconfig=${kubeconfig}`,
    `--contexts=${context}`,
    `--listen=127.0.0.1:${port}`,
    `--write-kubeconfig=${written}`,
    "--log-level=warn",
  ], {
    dir,
    name: `mca-proxy-${port}`,
    env: { DENO_V8_FLAGS: Deno.env.get("MCA_BENCH_V8_FLAGS") ?? SIDECAR_V8_FLAGS },
  });
  await waitFor(() => Deno.stat(written).then(() => true), { description: "mca proxy" });
  const text = await Deno.readTextFile(written);
  const token = /token: (\S+)/.exec(text)![1]!;
  const caPem = atob(/certificate-authority-data: (\S+)/.exec(text)![1]!);
  return { url: `https://127.0.0.1:${port}`, token, caPem, process };
}

/** Runs the proxy benchmark. */
export async function proxyBench(): Promise<BenchResult[]> {
  const dir = await Deno.makeTempDir({ prefix: "mca-bench-proxy-" });
  const pki = await createTestPki();
  const stops: (() => Promise<void>)[] = [];
  try {
    // Backend 1: static fixture JSON behind nginx.
    const nginx = await startNginx(`${dir}`, pki);
    stops.push(() => nginx.process.stop());
    const staticConfig = `${dir}/static.kubeconfig`;
    await Deno.writeTextFile(
      staticConfig,
      renderKubeconfig([{
        name: "static",
        server: nginx.url,
        caPem: pki.ca.certificatePem,
        user: { token: "t" },
      }]),
    );
    // Backend 2: a real API server with the same objects.
    const env = await startTestEnv({ clusters: ["bench"] });
    stops.push(() => env.stop());
    const cluster = env.cluster("bench");
    // The test kubeconfig authenticates with a client certificate, which kube-apiserver
    // verifies on every request; wrk can only send a token, so the proxies get the same token.
    const apiServerConfig = `${dir}/apiserver.kubeconfig`;
    await Deno.writeTextFile(
      apiServerConfig,
      renderKubeconfig([{
        name: "bench",
        server: cluster.url,
        caPem: cluster.caPem,
        user: { token: cluster.adminToken },
      }]),
    );
    await cluster.client.create("/api/v1/namespaces", { metadata: { name: "bench" } });
    await cluster.client.create("/api/v1/namespaces/bench/configmaps", configMap("small", "bench"));
    for (let i = 0; i < ITEMS; i += 50) {
      await Promise.all(
        Array.from(
          { length: 50 },
          (_, j) =>
            cluster.client.create(
              "/api/v1/namespaces/bench/configmaps",
              configMap(`cm-${i + j}`, "bench"),
            ),
        ),
      );
    }

    const results: BenchResult[] = [];
    const memory: Row[] = [];
    const backends = [
      {
        name: "static nginx",
        kubeconfig: staticConfig,
        context: "static",
        direct: nginx.url,
        token: "t",
        caPem: pki.ca.certificatePem,
      },
      {
        name: "kube-apiserver",
        kubeconfig: apiServerConfig,
        context: "bench",
        direct: cluster.url,
        token: cluster.adminToken,
        caPem: cluster.caPem,
      },
    ];
    for (const backend of backends) {
      const mca = await startMcaProxy(dir, backend.kubeconfig, backend.context);
      const kubectlProxy = await startKubectlProxy(dir, backend.kubeconfig);
      const mcaPid = guardedPid(mca.process.pid) ?? mca.process.pid;
      const idle = rssMiB(mcaPid);
      const targets: Target[] = [
        {
          name: "direct",
          url: backend.direct,
          headers: [`Authorization: Bearer ${backend.token}`],
          caPem: backend.caPem,
        },
        {
          name: "mca proxy",
          url: mca.url,
          headers: [`Authorization: Bearer ${mca.token}`],
          caPem: mca.caPem,
        },
        { name: "kubectl proxy", url: kubectlProxy.url, headers: [] },
      ];
      const passThroughs: ManagedProcess[] = [];
      if (backend.name === "static nginx") {
        for (const [stack, name] of PASS_THROUGH_STACKS) {
          const started = await startPassThrough(dir, stack, backend.direct);
          passThroughs.push(started.process);
          targets.push({ name, url: started.url, headers: [] });
        }
      }
      let loaded = idle;
      const list = "/api/v1/namespaces/bench/configmaps";
      const cases: [string, string, number, string[]][] = [
        ["small GET", SMALL_GET, CONNECTIONS, []],
        [`${ITEMS}-item LIST`, list, CONNECTIONS, []],
        ["small GET", SMALL_GET, 1, []],
      ];
      // kubectl and client-go ask for gzip, which kube-apiserver applies to large answers
      // (nginx here serves the fixture as it is).
      if (backend.name === "kube-apiserver") {
        cases.push([`${ITEMS}-item LIST, gzip`, list, CONNECTIONS, ["Accept-Encoding: gzip"]]);
      }
      for (const [what, path, connections, extraHeaders] of cases) {
        const rows: Row[] = [];
        for (const target of targets) {
          const sampler = setInterval(() => loaded = Math.max(loaded, rssMiB(mcaPid)), 100);
          const result = await runWrk(target.url + path, {
            connections,
            seconds: SECONDS,
            headers: [...target.headers, ...extraHeaders],
          });
          clearInterval(sampler);
          rows.push({
            name: `${target.name}${result.errors ? ` (${result.errors} errors)` : ""}`,
            values: {
              "req/s": result.requestsPerSecond,
              "p50 ms": result.p50Ms,
              "p99 ms": result.p99Ms,
            },
          });
        }
        results.push({
          title: `${what}, ${backend.name}, ${
            connections === 1 ? "1 connection (latency unloaded)" : `${connections} connections`
          }`,
          rows,
          ratios: true,
        });
      }
      memory.push({
        name: `mca proxy RSS MiB (${backend.name})`,
        values: { idle, "max under load": loaded },
      });
      if (backend.name === "static nginx") {
        const kubectlPid = guardedPid(kubectlProxy.process.pid) ?? kubectlProxy.process.pid;
        results.push(await stalledReaders(dir, backend, { ...targets[2]!, pid: kubectlPid }));
      }
      if (backend.name === "kube-apiserver") results.push(await watchDelays(cluster, targets));
      await mca.process.stop();
      await kubectlProxy.process.stop();
      for (const process of passThroughs) await process.stop();
    }
    results.push({ title: "memory", rows: memory, ratios: false });
    return results;
  } finally {
    for (const stop of stops.reverse()) await stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/**
 * Clients that ask for a large answer and stop reading (one on 128 MiB, four on 32 MiB each):
 * each proxy's resident memory before and at its peak over the stall. Each case gets a fresh
 * `mca proxy`, so that what one case left in its heap does not count in the next.
 */
async function stalledReaders(
  dir: string,
  backend: { kubeconfig: string; context: string },
  kubectlProxy: StalledTarget,
): Promise<BenchResult> {
  const rows: Row[] = [];
  for (const [path, mib, clients] of STALLS) {
    const mca = await startMcaProxy(dir, backend.kubeconfig, backend.context);
    const mcaTarget: StalledTarget = {
      url: mca.url,
      headers: [`Authorization: Bearer ${mca.token}`],
      caPem: mca.caPem,
      pid: guardedPid(mca.process.pid) ?? mca.process.pid,
    };
    for (
      const [name, target] of [["mca proxy", mcaTarget], ["kubectl proxy", kubectlProxy]] as const
    ) {
      const before = rssMiB(target.pid);
      const peak = await stalledReaderPeakMiB(target, path, clients);
      rows.push({
        name: `${name}, ${clients} stalled ${clients === 1 ? "reader" : "readers"} of ${mib} MiB`,
        values: { "RSS before MiB": before, "peak MiB": peak, "growth MiB": peak - before },
      });
    }
    await mca.process.stop();
  }
  return { title: "memory with stalled readers, nginx", rows, ratios: false };
}

/** Delivery delay of the same watch events on the three paths, from just before each create. */
async function watchDelays(
  cluster: Awaited<ReturnType<typeof startTestEnv>>["clusters"][number],
  targets: Target[],
): Promise<BenchResult> {
  const ns = "bench-watch";
  await cluster.client.create("/api/v1/namespaces", { metadata: { name: ns } });
  const sent = new Map<string, number>();
  const delays = new Map<string, number[]>(targets.map((t) => [t.name, []]));
  const controllers: AbortController[] = [];
  const ready: Promise<void>[] = [];
  for (const target of targets) {
    const controller = new AbortController();
    controllers.push(controller);
    const headers = Object.fromEntries(
      target.headers.map((h) => h.split(": ") as [string, string]),
    );
    const response = await fetch(`${target.url}/api/v1/namespaces/${ns}/configmaps?watch=1`, {
      headers,
      signal: controller.signal,
      ...(target.caPem ? { client: Deno.createHttpClient({ caCerts: [target.caPem] }) } : {}),
    }).catch(() => undefined);
    if (!response?.body) continue;
    ready.push((async () => {
      const decoder = new TextDecoder();
      let buffer = "";
      try {
        for await (const chunk of response.body!) {
          const now = performance.now();
          buffer += decoder.decode(chunk, { stream: true });
          let newline;
          while ((newline = buffer.indexOf("\n")) >= 0) {
            const event = JSON.parse(buffer.slice(0, newline));
            buffer = buffer.slice(newline + 1);
            const start = sent.get(event.object?.metadata?.name);
            if (event.type === "ADDED" && start !== undefined) {
              delays.get(target.name)!.push(now - start);
            }
          }
        }
      } catch { /* aborted */ }
    })());
  }
  for (let i = 0; i < 100; i++) {
    const name = `event-${i}`;
    sent.set(name, performance.now());
    await cluster.client.create(`/api/v1/namespaces/${ns}/configmaps`, { metadata: { name } });
  }
  await waitFor(() => [...delays.values()].every((d) => d.length >= 100), {
    timeoutMs: 10_000,
    description: "all events",
  })
    .catch(() => {});
  controllers.forEach((c) => c.abort());
  await Promise.all(ready);
  const rows = targets.map((target) => {
    const values = [...(delays.get(target.name) ?? [])].sort((a, b) => a - b);
    return {
      name: `${target.name} (${values.length} events)`,
      values: {
        "p50 ms": median(values),
        "p99 ms": values[Math.floor(values.length * 0.99)] ?? NaN,
      },
    };
  });
  return {
    title: "watch event delivery, kube-apiserver (from just before the create)",
    rows,
    ratios: true,
  };
}
