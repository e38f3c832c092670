/**
 * Runs `mca proxy` as the injected sidecar would run in a pod of the host cluster: its home is
 * "in cluster" (KUBERNETES_SERVICE_HOST/PORT and a service-account folder with a real token of
 * the pod's ServiceAccount), and it writes the app's credentials into a folder.
 */
import { renderKubeconfig } from "../../src/kube/mod.ts";
import { freePort, type ManagedProcess, type TestEnv } from "../../src/testenv/mod.ts";
import { waitFor } from "../../src/common/mod.ts";
import { kubectlOk, uniqueName } from "./e2e.ts";
import { startMca } from "./mca_process.ts";

/** A running sidecar proxy and what an app container would see. */
export interface SidecarProxy {
  process: ManagedProcess;
  url: string;
  port: number;
  healthUrl: string;
  /** The folder the app containers mount (the proxy writes their credentials there). */
  appDir: string;
  /** The app's view: token and CA the proxy wrote. */
  token: string;
  caPem: string;
  /** A kubeconfig for clients, pointing at the proxy with the app's token. */
  kubeconfigPath: string;
  configPath: string;
  /** The pod's namespace and ServiceAccount in the host cluster. */
  namespace: string;
  serviceAccountDir: string;
  /** Replaces the pod's token with a new one bound to the named Secret (rotation). */
  rotateToken(boundSecret: string): Promise<void>;
  /** Stops the proxy and starts it again on the same port and folders (a container restart). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** A kubeconfig of a cluster nobody listens for (the port was free a moment ago). */
export function unreachableKubeconfig(): string {
  return renderKubeconfig([{
    name: "down",
    server: `https://127.0.0.1:${freePort()}`,
    user: { token: "x" },
  }]);
}

/**
 * Starts the proxy with the given config; `dir` holds its files and log. The pod's
 * ServiceAccount is bound to `clusterRole` on the host (default cluster-admin).
 */
export async function startSidecarProxy(
  env: TestEnv,
  dir: string,
  configText: string,
  options: { clusterRole?: string } = {},
): Promise<SidecarProxy> {
  const host = env.cluster("host");
  const namespace = uniqueName("pod");
  await kubectlOk(host, ["create", "namespace", namespace]);
  await kubectlOk(host, ["create", "serviceaccount", "app", "-n", namespace]);
  await kubectlOk(host, [
    "create",
    "clusterrolebinding",
    `${namespace}-app`,
    `--clusterrole=${options.clusterRole ?? "cluster-admin"}`,
    `--serviceaccount=${namespace}:app`,
  ]);
  const serviceAccountDir = `${dir}/serviceaccount`;
  await Deno.mkdir(serviceAccountDir, { recursive: true });
  await Deno.writeTextFile(`${serviceAccountDir}/ca.crt`, host.caPem);
  await Deno.writeTextFile(`${serviceAccountDir}/namespace`, namespace);
  const rotateToken = async (boundSecret: string) => {
    await kubectlOk(host, ["create", "secret", "generic", boundSecret, "-n", namespace]);
    const token = await kubectlOk(host, [
      "create",
      "token",
      "app",
      "-n",
      namespace,
      "--bound-object-kind=Secret",
      `--bound-object-name=${boundSecret}`,
    ]);
    await Deno.writeTextFile(`${serviceAccountDir}/.token.tmp`, token.trim());
    await Deno.rename(`${serviceAccountDir}/.token.tmp`, `${serviceAccountDir}/token`);
  };
  await rotateToken("token-1");
  const configPath = `${dir}/config/config.yaml`;
  await Deno.mkdir(`${dir}/config`, { recursive: true });
  await Deno.writeTextFile(configPath, configText);
  const port = freePort();
  const healthPort = freePort();
  const appDir = `${dir}/app`;
  const healthUrl = `http://127.0.0.1:${healthPort}`;
  const launch = async () => {
    const started = await startMca([
      "proxy",
      `--listen=127.0.0.1:${port}`,
      `--health-listen=127.0.0.1:${healthPort}`,
      `--config=${configPath}`,
      `--app-credentials-dir=${appDir}`,
      `--state-dir=${dir}/state`,
      `--service-account-dir=${serviceAccountDir}`,
      "--log-format=text",
      "--log-level=debug",
    ], {
      dir,
      name: "proxy",
      env: {
        // Where the pod's kubelet points it: the cluster's API server (the Service's endpoint).
        KUBERNETES_SERVICE_HOST: new URL(host.url).hostname,
        KUBERNETES_SERVICE_PORT: new URL(host.url).port,
        MCA_POD_NAMESPACE: namespace,
      },
    });
    await waitFor(async () => {
      const response = await fetch(`${healthUrl}/readyz`);
      await response.body?.cancel();
      return response.ok;
    }, { description: "the proxy to be ready" }).catch(async (error) => {
      throw new Error(`${error.message}\n${await started.tail()}`);
    });
    return started;
  };
  let process = await launch();
  const token = await Deno.readTextFile(`${appDir}/token`);
  const caPem = await Deno.readTextFile(`${appDir}/ca.crt`);
  const url = `https://127.0.0.1:${port}`;
  const kubeconfigPath = `${dir}/app.kubeconfig`;
  await Deno.writeTextFile(
    kubeconfigPath,
    renderKubeconfig([{ name: "proxy", server: url, caPem, user: { token }, namespace }]),
  );
  return {
    get process() {
      return process;
    },
    url,
    port,
    healthUrl,
    appDir,
    token,
    caPem,
    kubeconfigPath,
    configPath,
    namespace,
    serviceAccountDir,
    rotateToken,
    async restart() {
      await process.stop();
      process = await launch();
    },
    stop: () => process.stop(),
  };
}
