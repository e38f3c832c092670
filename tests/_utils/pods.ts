/** Pods on the real test nodes: creating them with kubectl and waiting for their phase. */
import { kubectl, kubectlOk } from "./e2e.ts";
import type { TestCluster } from "../../src/testenv/mod.ts";
import { waitFor } from "../../src/common/mod.ts";

/** The parts of a Pod the tests read. */
export interface PodObject {
  metadata: { name: string; namespace: string; creationTimestamp?: string };
  spec: { nodeName?: string };
  status: {
    phase?: string;
    podIP?: string;
    containerStatuses?: ContainerStatus[];
    initContainerStatuses?: ContainerStatus[];
  };
}

/** A container's status in a pod (the fields the tests read). */
export interface ContainerStatus {
  name: string;
  ready: boolean;
  started?: boolean;
  restartCount?: number;
  containerID?: string;
  state?: ContainerState;
  lastState?: ContainerState;
}

/** One of a container's states; times are RFC 3339 with seconds. */
export interface ContainerState {
  running?: { startedAt: string };
  terminated?: { exitCode: number; reason?: string; startedAt?: string; finishedAt?: string };
  waiting?: { reason?: string };
}

/** Applies objects (as JSON) to a cluster with kubectl. */
export async function apply(cluster: TestCluster, ...objects: unknown[]): Promise<void> {
  await kubectlOk(cluster, ["apply", "-f", "-"], {
    stdin: JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }),
  });
}

/** Reads a pod. */
export async function getPod(
  cluster: TestCluster,
  namespace: string,
  name: string,
): Promise<PodObject> {
  return JSON.parse(await kubectlOk(cluster, ["get", "pod", name, "-n", namespace, "-o", "json"]));
}

/**
 * Waits until the pod reaches `phase` (Running or Succeeded), failing early when it ends in
 * another phase, with its status and events in the message.
 */
export async function waitForPhase(
  cluster: TestCluster,
  namespace: string,
  name: string,
  phase: "Running" | "Succeeded",
  timeoutMs = 60_000,
): Promise<PodObject> {
  let pod: PodObject;
  try {
    pod = await waitFor(async () => {
      const current = await getPod(cluster, namespace, name);
      const ended = current.status.phase === "Failed" ||
        (current.status.phase === "Succeeded" && phase === "Running");
      return current.status.phase === phase || ended ? current : false;
    }, { timeoutMs, intervalMs: 200, description: `pod "${namespace}/${name}" to be ${phase}` });
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${await podReport(cluster, namespace, name)}`);
  }
  if (pod.status.phase !== phase) {
    throw new Error(
      `Pod "${namespace}/${name}" ended ${pod.status.phase} instead of becoming ${phase}\n${await podReport(
        cluster,
        namespace,
        name,
      )}`,
    );
  }
  return pod;
}

/** The end of `kubectl describe` and the logs of every container, for failure messages. */
async function podReport(cluster: TestCluster, namespace: string, name: string): Promise<string> {
  const described = await kubectl(cluster, ["describe", "pod", name, "-n", namespace]);
  const logs = await kubectl(cluster, [
    "logs",
    name,
    "-n",
    namespace,
    "--all-containers",
    "--tail=20",
  ]);
  return `${
    described.stdout.split("\n").slice(-25).join("\n")
  }\nLogs:\n${logs.stdout}${logs.stderr}`;
}

/** A Pod that runs once (restartPolicy Never) with the given containers. */
export function oneShotPod(
  namespace: string,
  name: string,
  containers: Array<Record<string, unknown>>,
): Record<string, unknown> {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace },
    spec: {
      restartPolicy: "Never",
      terminationGracePeriodSeconds: 1,
      containers: containers.map((container) => ({ imagePullPolicy: "Never", ...container })),
    },
  };
}

/** The logs of one container of a pod. */
export async function podLogs(
  cluster: TestCluster,
  namespace: string,
  name: string,
  container?: string,
): Promise<string> {
  return await kubectlOk(cluster, [
    "logs",
    name,
    "-n",
    namespace,
    ...(container ? ["-c", container] : []),
  ]);
}
