/**
 * Test programs that run inside pods (tests/pods/_programs, on the deno image, mounted from a
 * ConfigMap), and following a container's log as it is written.
 */
import { kubectlOk } from "../_utils/e2e.ts";
import { type KubectlSession, startKubectl } from "../_utils/kubectl_session.ts";
import type { TestCluster } from "../../src/testenv/mod.ts";

const PROGRAMS = new URL("./_programs/", import.meta.url).pathname;
/** Where the programs are mounted in a container. */
export const PROGRAMS_PATH = "/programs";

/** Creates the ConfigMap "programs" (every file of tests/pods/_programs) in a namespace. */
export async function createProgramsConfigMap(
  cluster: TestCluster,
  namespace: string,
): Promise<void> {
  await kubectlOk(cluster, [
    "create",
    "configmap",
    "programs",
    "-n",
    namespace,
    `--from-file=${PROGRAMS}`,
  ]);
}

/** The pod volume holding the programs. */
export const PROGRAMS_VOLUME = { name: "programs", configMap: { name: "programs" } };

/** A container that runs `program` (a file of tests/pods/_programs) with the deno image. */
export function programContainer(
  denoImage: string,
  name: string,
  program: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const { env, ...rest } = extra as { env?: unknown[] };
  return {
    name,
    image: denoImage,
    imagePullPolicy: "Never",
    args: ["run", "--allow-all", "--quiet", `${PROGRAMS_PATH}/${program}`],
    // Deno's cache in /tmp: the image's home folder belongs to uid 65532 only.
    env: [{ name: "DENO_DIR", value: "/tmp/deno" }, ...(env ?? [])],
    volumeMounts: [{ name: PROGRAMS_VOLUME.name, mountPath: PROGRAMS_PATH, readOnly: true }],
    ...rest,
  };
}

/** Follows a container's log from its beginning (`kubectl logs -f`). */
export async function followLog(
  cluster: TestCluster,
  namespace: string,
  pod: string,
  container: string,
): Promise<KubectlSession> {
  return await startKubectl(cluster, ["logs", "-f", pod, "-n", namespace, "-c", container]);
}
