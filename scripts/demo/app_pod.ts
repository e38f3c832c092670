/**
 * The app's pod on the host: its objects on every cluster, the pod as the webhook injects it,
 * and the kubelet running it (the sidecar first, then the app).
 */
import type { TestEnv } from "../../src/testenv/mod.ts";
import { waitFor } from "../../src/common/mod.ts";
import {
  APP_NAMESPACE,
  APP_USER,
  appPod,
  hostAppObjects,
  MEMBER_APP_USER,
  memberAppObjects,
} from "./demo_objects.ts";
import { applyObject, type InstalledHub } from "./install_mca.ts";

/** The app pod's name (fixed, so that `kubectl exec inventory` works as printed). */
export const APP_POD = "inventory";
/** The app's last line before it starts watching: the story is over once it is logged. */
const STORY_DONE = "watching ConfigMaps";

type AppOutcome = { kind: "told"; log: string } | { kind: "ended"; phase: string };

interface PodSpecLite {
  metadata: { name: string };
  spec: {
    nodeName?: string;
    initContainers?: { name: string; image: string; restartPolicy?: string }[];
    containers: { name: string; env?: { name: string; value?: string }[] }[];
  };
  status?: { phase?: string };
}

/** Applies the app's objects on each cluster and creates its pod; says what the webhook did. */
export async function createAppPod(
  env: TestEnv,
  hub: InstalledHub,
  members: string[],
  say: (line: string) => void,
): Promise<void> {
  const host = env.cluster("host");
  for (const object of hostAppObjects(hub.serviceUrl, hub.caPem)) {
    await applyObject(host.client, object);
  }
  for (const name of members) {
    for (const object of memberAppObjects()) await applyObject(env.cluster(name).client, object);
  }
  say(`Routes (ConfigMap mca-proxy): region=east → east, region=west → west, others → host;`);
  say(`listing ConfigMaps merges host, east and west; east and west via ${hub.serviceUrl}.`);
  say(
    `On east and west, ${MEMBER_APP_USER} (the host's ${APP_USER}) may edit ConfigMaps in "${APP_NAMESPACE}".`,
  );
  // The pod's ServiceAccount must exist before the pod: the controllers make only "default".
  const pod = await host.client.create<PodSpecLite>(
    `/api/v1/namespaces/${APP_NAMESPACE}/pods`,
    appPod(APP_POD, env.images!.sampleApp.ref),
  );
  const sidecar = pod.spec.initContainers?.find((c) => c.name === "mca-proxy");
  if (!sidecar) throw new Error("The webhook did not inject the sidecar into the app's pod");
  const app = pod.spec.containers.find((c) => c.name === "app")!;
  const appEnv = (app.env ?? []).filter((e) => e.name.startsWith("KUBERNETES_SERVICE"))
    .map((e) => `${e.name}=${e.value}`).join(" ");
  say(`The webhook injected the native sidecar "mca-proxy" into pod ${pod.metadata.name}`);
  say(`(image ${sidecar.image}, restartPolicy ${sidecar.restartPolicy}); the app container`);
  say(`now has ${appEnv}, and the sidecar's token and CA.`);
}

/**
 * Waits until the app has told its story (it then keeps watching) and returns its log; fails
 * early, with the pod's logs, if the pod fails.
 */
export async function waitForApp(env: TestEnv, say: (line: string) => void): Promise<string> {
  const host = env.cluster("host");
  const pod = `/api/v1/namespaces/${APP_NAMESPACE}/pods/${APP_POD}`;
  const started = Date.now();
  let scheduled = false;
  try {
    const outcome = await waitFor(async (): Promise<AppOutcome | undefined> => {
      const current = await host.client.get<PodSpecLite>(pod);
      if (current.spec.nodeName && !scheduled) {
        scheduled = true;
        say(
          `Scheduled on node ${current.spec.nodeName}; the kubelet starts the sidecar, then the app`,
        );
      }
      const phase = current.status?.phase;
      if (phase === "Failed" || phase === "Succeeded") return { kind: "ended", phase };
      const log = await containerLog(env, "app");
      return log.includes(STORY_DONE) ? { kind: "told", log } : undefined;
    }, { timeoutMs: 180_000, intervalMs: 500, description: "the app to tell its story" });
    if (outcome.kind === "ended") throw new Error(`The app's pod ended ${outcome.phase}`);
    const seconds = ((Date.now() - started) / 1000).toFixed(0);
    say(`The app told its story within ${seconds} s of the pod's creation; its log:`);
    return outcome.log;
  } catch (error) {
    const logs = await Promise.all(
      ["mca-proxy", "app"].map(async (c) =>
        `${c}:\n${await containerLog(env, c).catch((e) => e.message)}`
      ),
    );
    throw new Error(`${(error as Error).message}\n${logs.join("\n")}`);
  }
}

/** The log of one of the app pod's containers, read from the host's API server. */
export async function containerLog(env: TestEnv, container: string): Promise<string> {
  const response = await env.cluster("host").client.request(
    `/api/v1/namespaces/${APP_NAMESPACE}/pods/${APP_POD}/log?container=${container}`,
  );
  const text = await response.text();
  if (!response.ok) throw new Error(`Cannot read the log of "${container}": ${text.trim()}`);
  return text;
}
