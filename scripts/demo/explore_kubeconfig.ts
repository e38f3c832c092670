/**
 * The kubeconfig the demo leaves to explore: each cluster directly, the app's own view through
 * its sidecar (reached with kubectl port-forward: the sidecar listens on the pod's loopback
 * only), and each member through the hub (`mca kubeconfig`) and through the host API server
 * (`mca kubeconfig --via-host-api-server`).
 */
import { parse, stringify } from "yaml";
import { renderKubeconfig } from "../../src/kube/mod.ts";
import {
  freePort,
  kubectlPath,
  type ManagedProcess,
  startManagedProcess,
  type TestEnv,
} from "../../src/testenv/mod.ts";
import { waitFor } from "../../src/common/mod.ts";
import { APP_POD } from "./app_pod.ts";
import { APP_NAMESPACE } from "./demo_objects.ts";
import type { InstalledHub } from "./install_mca.ts";
import { runKubectl, runMca } from "./mca_processes.ts";

/** The kubeconfig file, what each context is, and what keeps the "app" context up. */
export interface ExploreKubeconfig {
  kubeconfig: string;
  contexts: { name: string; server: string; what: string }[];
  portForward: ManagedProcess;
}

// What the app container reads: the credentials its sidecar wrote for it.
const READ_APP_CREDENTIALS = "const d = '/var/run/secrets/kubernetes.io/serviceaccount/'; " +
  "console.log(JSON.stringify({ token: Deno.readTextFileSync(d + 'token'), " +
  "ca: Deno.readTextFileSync(d + 'ca.crt') }))";

/** Writes `<dir>/kubeconfig`; starts the port-forward to the sidecar. */
export async function writeExploreKubeconfig(
  env: TestEnv,
  hub: InstalledHub,
  dir: string,
): Promise<ExploreKubeconfig> {
  const host = env.cluster("host");
  // The app's credentials, read inside the app container with kubectl exec.
  const credentials = JSON.parse(
    await runKubectl(host.kubeconfigPath, [
      "exec",
      `--namespace=${APP_NAMESPACE}`,
      APP_POD,
      "--container=app",
      "--",
      "deno",
      "eval",
      READ_APP_CREDENTIALS,
    ]),
  ) as { token: string; ca: string };
  const port = freePort();
  const portForward = await startManagedProcess("port-forward", await kubectlPath(), [
    `--kubeconfig=${host.kubeconfigPath}`,
    `--namespace=${APP_NAMESPACE}`,
    "port-forward",
    "--address=127.0.0.1",
    `pod/${APP_POD}`,
    `${port}:6443`,
  ], { logPath: `${dir}/port-forward.log` });
  try {
    await waitFor(async () => (await portForward.tail(5)).includes("Forwarding from"), {
      timeoutMs: 30_000,
      description: "kubectl port-forward to the app's sidecar",
    });
    const kubeconfig = `${dir}/kubeconfig`;
    const appServer = `https://127.0.0.1:${port}`;
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
          server: appServer,
          caPem: credentials.ca,
          user: { token: credentials.token },
          namespace: APP_NAMESPACE,
        },
      ]),
      { mode: 0o600 },
    );
    const hubCaFile = `${dir}/hub-ca.crt`;
    await Deno.writeTextFile(hubCaFile, hub.caPem);
    // `mca kubeconfig`: a context per member, through the hub, for the host's admin; then one
    // file with every context, as `kubectl config view --flatten` would merge them.
    const hubKubeconfig = `${dir}/hub.kubeconfig`;
    await runMca([
      "kubeconfig",
      `--hub=${hub.url}`,
      `--hub-ca-file=${hubCaFile}`,
      `--kubeconfig=${kubeconfig}`,
      "--context=host",
      "--prefix=hub-",
      `--output=${hubKubeconfig}`,
    ], () => {});
    // And through the host API server (the aggregated entrance), with the same admin's user.
    const hostApiKubeconfig = `${dir}/host-api.kubeconfig`;
    await runMca([
      "kubeconfig",
      "--via-host-api-server",
      `--kubeconfig=${kubeconfig}`,
      "--context=host",
      "--prefix=host-api-",
      `--output=${hostApiKubeconfig}`,
    ], () => {});
    let merged = await Deno.readTextFile(kubeconfig);
    for (const file of [hubKubeconfig, hostApiKubeconfig]) {
      merged = mergeFiles(merged, await Deno.readTextFile(file));
      await Deno.remove(file);
    }
    await Deno.writeTextFile(kubeconfig, merged, { mode: 0o600 });
    const members = env.clusters.filter((c) => c.name !== "host").map((c) => c.name);
    return {
      kubeconfig,
      contexts: [
        ...env.clusters.map((c) => ({
          name: c.name,
          server: c.url,
          what: `${c.name}'s API server, as its admin`,
        })),
        {
          name: "app",
          server: appServer,
          what: "the app's view: its sidecar (kubectl port-forward), with the app's token",
        },
        ...members.map((name) => ({
          name: `hub-${name}`,
          server: `${hub.url}/clusters/${name}`,
          what: `${name} through the hub and ${name}'s agent, as host's admin (allowPrivileged)`,
        })),
        ...members.map((name) => ({
          name: `host-api-${name}`,
          server: `${host.url}/apis/proxy.mca.k8s.io/v1alpha1/clusters/${name}/proxy`,
          what: `${name} through host's API server (aggregated), then the hub, as host's admin`,
        })),
      ],
      portForward,
    };
  } catch (error) {
    await portForward.stop();
    throw error;
  }
}

/**
 * The second kubeconfig's clusters, users and contexts appended to the first's; a name already
 * there keeps the first file's entry, as kubectl merges (`--via-host-api-server` copies the
 * host context's user under its own name).
 */
function mergeFiles(first: string, second: string): string {
  type Named = { name: string };
  const merged = parse(first) as Record<string, Named[]>;
  const added = parse(second) as Record<string, Named[]>;
  for (const key of ["clusters", "users", "contexts"]) {
    const names = new Set((merged[key] ?? []).map((entry) => entry.name));
    merged[key] = [
      ...(merged[key] ?? []),
      ...(added[key] ?? []).filter((entry) => !names.has(entry.name)),
    ];
  }
  return stringify(merged, { lineWidth: 0 });
}
