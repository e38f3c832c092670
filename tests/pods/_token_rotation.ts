/**
 * A pod for the token rotation test, injected with `mca inject` (as a GitOps pipeline would)
 * and given the shortest lifetime the API server accepts for its projected token (600 s; the
 * kubelet replaces the token at 80% of it). It is started once per environment, early, so that
 * the other tests run while the kubelet's clock turns.
 */
import { kubectlOk, uniqueName } from "../_utils/e2e.ts";
import { editRole } from "../_utils/mca_chart.ts";
import { mcaCommand } from "../_utils/mca_process.ts";
import { containerId, containerPid, readContainerFile } from "../_utils/node_containers.ts";
import { apply, waitForPhase } from "../_utils/pods.ts";
import { runCommand } from "../_utils/run_command.ts";
import type { TestCluster, TestEnv } from "../../src/testenv/mod.ts";

/** The shortest expirationSeconds of a projected token (the API server refuses less). */
export const SHORTEST_TOKEN_SECONDS = 600;
/** Where the sidecar reads the pod's own token. */
export const POD_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token";

/** The running rotation pod and the token its sidecar started with. */
export interface RotationPod {
  host: TestCluster;
  namespace: string;
  name: string;
  firstToken: string;
  /** When the first token expires (ms since the epoch, from its `exp` claim). */
  firstExpiresAt: number;
}

const started = new WeakMap<TestEnv, Promise<RotationPod>>();

/** Starts the rotation pod once per environment. */
export function startRotationPod(env: TestEnv): Promise<RotationPod> {
  let pod = started.get(env);
  if (!pod) {
    pod = start(env);
    started.set(env, pod);
  }
  return pod;
}

async function start(env: TestEnv): Promise<RotationPod> {
  const host = env.cluster("host");
  // Not labelled for the webhook: this pod is injected on the client side.
  const namespace = uniqueName("rotation");
  await editRole(host, namespace);
  const name = "app";
  const [command, ...prefix] = mcaCommand();
  const injected = await runCommand(command!, [
    ...prefix,
    "inject",
    `--image=${env.images!.mca.ref}`,
    "--image-pull-policy=Never",
    "--quiet",
    "-",
  ], {
    stdin: JSON.stringify({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, namespace },
      spec: {
        terminationGracePeriodSeconds: 2,
        containers: [{
          name: "app",
          image: env.images!.kubectl.ref,
          imagePullPolicy: "Never",
          // Keeps running (a watch through the sidecar); the test runs kubectl in it.
          args: ["get", "configmaps", "--watch-only", "-o", "name"],
        }],
      },
    }),
  });
  if (injected.code !== 0) throw new Error(`mca inject failed: ${injected.stderr}`);
  const pod = JSON.parse(injected.stdout);
  const projected = pod.spec.volumes.find((v: { name: string }) => v.name === "mca-pod-credentials")
    .projected.sources.find((s: Record<string, unknown>) => s.serviceAccountToken);
  projected.serviceAccountToken.expirationSeconds = SHORTEST_TOKEN_SECONDS;
  await apply(host, pod);
  const running = await waitForPhase(host, namespace, name, "Running", 120_000);
  const pid = await containerPid(host, containerId(running, "mca-proxy"));
  const firstToken = (await readContainerFile(pid, POD_TOKEN)).trim();
  return {
    host,
    namespace,
    name,
    firstToken,
    firstExpiresAt: jwtClaims(firstToken).exp * 1000,
  };
}

/** The claims of a JWT (not verified: the API server does that). */
export function jwtClaims(token: string): { exp: number; iat: number } {
  const payload = token.split(".")[1] ?? "";
  return JSON.parse(atob(payload.replace(/-/g, "+").replace(/_/g, "/")));
}

/** `kubectl auth whoami` in the rotation pod's app container: through its sidecar. */
export async function whoamiThroughSidecar(pod: RotationPod): Promise<string> {
  return await kubectlOk(pod.host, [
    "exec",
    pod.name,
    "-n",
    pod.namespace,
    "-c",
    "app",
    "--",
    "kubectl",
    "auth",
    "whoami",
    "-o",
    "jsonpath={.status.userInfo.username}",
  ]);
}
