/**
 * The demo's story: three local clusters, the hub and an agent per member, the webhook on the
 * host, and a single-cluster app whose pod the webhook injects; then what happened, checked on
 * each cluster directly, and a kubeconfig to look around.
 */
import { renderKubeconfig } from "../../src/kube/mod.ts";
import { freePort, startTestEnv, type TestEnv, waitFor } from "../../src/testenv/mod.ts";
import {
  APP_NAMESPACE,
  APP_USER,
  appPod,
  EXPECTED_PLACEMENT,
  hostAppObjects,
  memberAppObjects,
} from "./demo_objects.ts";
import { type LocalPod, runPodLocally } from "./local_pod.ts";
import { runMca, waitForHttps } from "./mca_processes.ts";
import { mcaCommand, startMca } from "../../tests/_utils/mca_process.ts";
import type { PodSpecLite } from "./pod_volumes.ts";
import { requestsFromSidecarLog } from "./sidecar_story.ts";
import { applyObject, startTunnel } from "./start_tunnel.ts";

const SAMPLE_APP = new URL("./sample_app.ts", import.meta.url).pathname;
const MEMBERS = ["east", "west"];
const STEPS = 6;

/** What is left running when the story is told. */
export interface RunningDemo {
  env: TestEnv;
  kubeconfig: string;
  stop(): Promise<void>;
}

/** Tells the story on `say`; throws (after cleaning up) if any part does not work. */
export async function runDemo(
  options: { dir: string; say: (line: string) => void },
): Promise<RunningDemo> {
  const { dir, say } = options;
  let step = 0;
  const heading = (text: string) => say(`\n[${++step}/${STEPS}] ${text}`);
  const detail = (text: string) => say(`      ${text}`);
  await Deno.mkdir(dir, { recursive: true });
  assertPortFree(6443);

  heading("Starting three local clusters, host, east and west (kube-apiserver and etcd)");
  const env = await startTestEnv({ build: true, onProgress: detail });
  const stops: (() => Promise<void>)[] = [() => env.stop()];
  const stop = async () => {
    for (const stopOne of stops.reverse()) await stopOne().catch(() => {});
  };
  try {
    heading("Connecting east and west to the host: the hub, and an agent in each member");
    detail("Members dial out to the hub over wss; nothing dials into them.");
    const tunnel = await startTunnel(env, { dir, members: MEMBERS, say: detail });
    stops.push(() => tunnel.stop());

    heading("Starting the webhook (mca webhook) and registering it with the host");
    const host = env.cluster("host");
    const webhookPort = freePort();
    const webhook = await startMca([
      "webhook",
      `--kubeconfig=${host.kubeconfigPath}`,
      "--namespace=mca-system",
      `--listen=127.0.0.1:${webhookPort}`,
      `--url=https://127.0.0.1:${webhookPort}`,
      "--log-format=text",
    ], { dir });
    stops.push(() => webhook.stop());
    const webhookCa = await waitFor(async () => {
      const config = await host.client.get<
        { webhooks?: { clientConfig: { caBundle?: string } }[] }
      >(
        "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/mca",
      );
      const bundle = config.webhooks?.[0]?.clientConfig.caBundle;
      return bundle ? atob(bundle) : undefined;
    }, { timeoutMs: 60_000, description: "the webhook to register itself" });
    await waitForHttps(
      `https://127.0.0.1:${webhookPort}/readyz`,
      webhookCa,
      "the webhook",
      webhook,
    );
    detail(`MutatingWebhookConfiguration "mca" points at https://127.0.0.1:${webhookPort}`);

    heading(`Creating the app's pod in namespace "${APP_NAMESPACE}" on the host`);
    for (const object of hostAppObjects(tunnel.hubUrl, tunnel.hubCaPem)) {
      await applyObject(host.client, object);
    }
    for (const name of MEMBERS) {
      for (const object of memberAppObjects()) await applyObject(env.cluster(name).client, object);
    }
    detail(`Routes (ConfigMap mca-proxy): region=east → east, region=west → west, others → host;`);
    detail("listing ConfigMaps merges host, east and west.");
    detail(`On east and west, ${APP_USER} may edit ConfigMaps in "${APP_NAMESPACE}".`);
    const pod = await host.client.create<PodSpecLite>(
      `/api/v1/namespaces/${APP_NAMESPACE}/pods`,
      appPod(`inventory-${crypto.randomUUID().slice(0, 5)}`),
    );
    const sidecar = pod.spec.initContainers?.find((c) => c.name === "mca-proxy");
    if (!sidecar) throw new Error("The webhook did not inject the sidecar into the app's pod");
    const app = pod.spec.containers.find((c) => c.name === "app")!;
    const appEnv = (app.env ?? []).filter((e) => e.name.startsWith("KUBERNETES_SERVICE"))
      .map((e) => `${e.name}=${e.value}`).join(" ");
    detail(
      `The webhook injected the sidecar "mca-proxy" (${sidecar.image}) into ${pod.metadata.name};`,
    );
    detail(`the app container now has ${appEnv} and the sidecar's token and CA.`);

    heading("Running the pod: the sidecar first, then the app");
    detail("No kubelet runs here: the demo runs the pod's containers as local processes.");
    const appPodRun = await runPodLocally(pod, {
      cluster: host,
      dir,
      entrypointOf: (image) =>
        image.startsWith("ghcr.io/mca-k8s/mca:")
          ? mcaCommand()
          : image.startsWith("registry.example/inventory:")
          ? [Deno.execPath(), "run", "--allow-all", "--quiet", SAMPLE_APP]
          : undefined,
    });
    stops.push(() => appPodRun.stop());
    const code = await appPodRun.process("app").exited;
    const appLog = await Deno.readTextFile(appPodRun.process("app").logPath);
    for (const line of appLog.trimEnd().split("\n")) detail(line);
    if (code !== 0) throw new Error(`The app failed (exit code ${code})`);

    heading("What happened");
    await tellRequests(appPodRun, say);
    await checkPlacement(env, say);
    const kubeconfig = await writeKubeconfigs(env, tunnel, appPodRun, dir);
    return { env, kubeconfig, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function tellRequests(pod: LocalPod, say: (line: string) => void) {
  const log = await Deno.readTextFile(pod.process("mca-proxy").logPath);
  for (const request of requestsFromSidecarLog(log, { viaHub: MEMBERS, user: APP_USER })) {
    say(`  ${request}`);
  }
}

// The proof: each object is where the routes say, asked of each cluster's API server directly.
async function checkPlacement(env: TestEnv, say: (line: string) => void) {
  say("\n  Checked on each cluster's own API server:");
  const found = new Map<string, string[]>();
  for (const cluster of env.clusters) {
    const list = await cluster.client.list<{ metadata: { name: string } }>(
      `/api/v1/namespaces/${APP_NAMESPACE}/configmaps`,
      { labelSelector: "app=inventory" },
    );
    found.set(cluster.name, list.items.map((item) => item.metadata.name));
  }
  for (const expected of EXPECTED_PLACEMENT) {
    const where = [...found].filter(([, names]) => names.includes(expected.name)).map(([c]) => c);
    if (where.length !== 1 || where[0] !== expected.cluster) {
      throw new Error(
        `ConfigMap ${expected.name} should be in ${expected.cluster} only, found in: ${
          where.join(", ") || "no cluster"
        }`,
      );
    }
    say(`  ✓ ${expected.name} is in ${expected.cluster} only (${expected.why})`);
  }
}

async function writeKubeconfigs(
  env: TestEnv,
  tunnel: { hubUrl: string; hubCaFile: string },
  appPodRun: LocalPod,
  dir: string,
): Promise<string> {
  const kubeconfig = `${dir}/kubeconfig`;
  const serviceAccount = `${appPodRun.root("app")}/var/run/secrets/kubernetes.io/serviceaccount`;
  await Deno.writeTextFile(
    kubeconfig,
    renderKubeconfig([
      ...env.clusters.map((cluster) => ({
        name: cluster.name,
        server: cluster.url,
        caPem: cluster.caPem,
        user: { token: cluster.adminToken },
      })),
      {
        name: "app",
        server: "https://127.0.0.1:6443",
        caPem: await Deno.readTextFile(`${serviceAccount}/ca.crt`),
        user: { tokenFile: `${serviceAccount}/token` },
        namespace: APP_NAMESPACE,
      },
    ]),
    { mode: 0o600 },
  );
  // `mca kubeconfig`: a context per member, through the hub, for the host's admin.
  await runMca([
    "kubeconfig",
    `--hub=${tunnel.hubUrl}`,
    `--hub-ca-file=${tunnel.hubCaFile}`,
    `--kubeconfig=${kubeconfig}`,
    "--context=host",
    "--prefix=hub-",
    `--output=${dir}/hub.kubeconfig`,
  ], () => {});
  return `${kubeconfig}:${dir}/hub.kubeconfig`;
}

function assertPortFree(port: number) {
  try {
    Deno.listen({ hostname: "127.0.0.1", port }).close();
  } catch {
    throw new Error(
      `Port ${port} is in use on this machine: the injected app reaches its sidecar at ` +
        `127.0.0.1:${port}, as in a pod. Stop what listens there and run the demo again`,
    );
  }
}
