/**
 * Admission latency of `mca webhook` for a typical pod at a fixed request rate (open loop:
 * latency counts from the moment a request was due), side by side with a no-op handler on
 * the same server stack. The goal: p99 under 5 ms at 200 requests/s.
 */
import { createTestPki } from "../tests/_utils/test_pki.ts";
import type { BenchResult, Row } from "./_report.ts";

const RATE = Number(Deno.env.get("MCA_BENCH_RATE") ?? 200);
const SECONDS = Number(Deno.env.get("MCA_BENCH_SECONDS") ?? 10);

const REVIEW = JSON.stringify({
  apiVersion: "admission.k8s.io/v1",
  kind: "AdmissionReview",
  request: {
    uid: "bench",
    kind: { group: "", version: "v1", kind: "Pod" },
    resource: { group: "", version: "v1", resource: "pods" },
    namespace: "shop",
    operation: "CREATE",
    object: {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        generateName: "web-7d9f-",
        namespace: "shop",
        labels: { app: "web", "mca.k8s.io/inject": "true" },
      },
      spec: {
        serviceAccountName: "web",
        containers: [
          {
            name: "web",
            image: "registry.example/web:1.0",
            ports: [{ containerPort: 8080 }],
            env: [{ name: "LOG_LEVEL", value: "info" }],
            resources: { requests: { cpu: "100m", memory: "128Mi" } },
            volumeMounts: [{
              name: "kube-api-access-abcde",
              mountPath: "/var/run/secrets/kubernetes.io/serviceaccount",
              readOnly: true,
            }],
          },
          {
            name: "metrics",
            image: "registry.example/exporter:0.9",
            volumeMounts: [{
              name: "kube-api-access-abcde",
              mountPath: "/var/run/secrets/kubernetes.io/serviceaccount",
              readOnly: true,
            }],
          },
        ],
        volumes: [{
          name: "kube-api-access-abcde",
          projected: {
            sources: [{ serviceAccountToken: { path: "token", expirationSeconds: 3607 } }],
          },
        }],
      },
    },
  },
});

async function measure(
  mode: "noop" | "mca",
  files: { cert: string; key: string; ca: string },
): Promise<Row> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      "--quiet",
      new URL("./webhook/server.ts", import.meta.url).pathname,
      mode,
      files.cert,
      files.key,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!/port \d+/.test(text)) text += (await reader.read()).value ?? "";
  const port = Number(/port (\d+)/.exec(text)![1]);
  const client = Deno.createHttpClient({ caCerts: [files.ca] });
  const send = async () => {
    const response = await fetch(`https://localhost:${port}/mutate`, {
      method: "POST",
      body: REVIEW,
      headers: { "Content-Type": "application/json" },
      client,
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    await response.arrayBuffer();
  };
  for (let i = 0; i < 200; i++) await send(); // warm up connections and JIT
  const latencies: number[] = [];
  const interval = 1000 / RATE;
  const start = performance.now();
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < RATE * SECONDS; i++) {
    const due = start + i * interval;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    inflight.push(send().then(() => void latencies.push(performance.now() - due)));
  }
  await Promise.all(inflight);
  client.close();
  child.kill();
  await child.status;
  reader.releaseLock();
  await child.stdout.cancel().catch(() => {});
  latencies.sort((a, b) => a - b);
  const pick = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  return {
    name: mode === "noop"
      ? "no-op handler (node:https + Hono)"
      : "mca webhook (inject + JSONPatch)",
    values: { "p50 ms": pick(0.5), "p99 ms": pick(0.99), "max ms": latencies.at(-1)! },
  };
}

/** Runs the admission benchmark. */
export async function webhookBench(): Promise<BenchResult> {
  const pki = await createTestPki();
  const dir = await Deno.makeTempDir({ prefix: "mca-bench-webhook-" });
  const files = { cert: `${dir}/tls.crt`, key: `${dir}/tls.key`, ca: pki.ca.certificatePem };
  await Deno.writeTextFile(files.cert, pki.server.certificatePem);
  await Deno.writeTextFile(files.key, pki.server.privateKeyPem);
  try {
    const rows = [await measure("noop", files), await measure("mca", files)];
    rows.forEach((row) => row.name += ` @ ${RATE}/s`);
    return { rows, ratios: true };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
