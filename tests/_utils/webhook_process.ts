/** `mca webhook` as a process in development mode (registered by URL), and waiting for it. */
import type { ManagedProcess, TestCluster } from "../../src/testenv/mod.ts";
import { waitFor } from "../../src/common/mod.ts";
import { startMca } from "./mca_process.ts";

const MWC = "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations";

type Configuration = {
  webhooks: { name: string; clientConfig: { caBundle?: string; url?: string } }[];
};

/** One webhook process in development mode (registered by URL) with its own listen port. */
export async function startWebhook(
  host: TestCluster,
  spec: {
    dir: string;
    namespace: string;
    configuration: string;
    port: number;
    urlPort?: number;
    extraArgs?: string[];
  },
): Promise<ManagedProcess> {
  return await startMca([
    "webhook",
    `--kubeconfig=${host.kubeconfigPath}`,
    `--namespace=${spec.namespace}`,
    `--configuration-name=${spec.configuration}`,
    `--listen=127.0.0.1:${spec.port}`,
    `--url=https://127.0.0.1:${spec.urlPort ?? spec.port}`,
    "--image=registry.example/mca:e2e",
    "--log-format=text",
    ...spec.extraArgs ?? [],
  ], { dir: spec.dir, name: `webhook-${spec.port}` });
}

export async function caBundle(
  host: TestCluster,
  configuration: string,
): Promise<string | undefined> {
  const config = await host.client.get<Configuration>(`${MWC}/${configuration}`).catch(() =>
    undefined
  );
  const bundle = config?.webhooks[0]?.clientConfig.caBundle;
  return bundle ? atob(bundle) : undefined;
}

/** Waits until the webhook answers /readyz over TLS verified with the published bundle. */
export async function waitReady(
  host: TestCluster,
  configuration: string,
  port: number,
  process: ManagedProcess,
) {
  await waitFor(async () => {
    const bundle = await caBundle(host, configuration);
    if (!bundle) return false;
    const client = Deno.createHttpClient({ caCerts: [bundle] });
    try {
      const response = await fetch(`https://127.0.0.1:${port}/readyz`, { client });
      await response.body?.cancel();
      return response.ok;
    } finally {
      client.close();
    }
  }, { timeoutMs: 30_000, description: `webhook on port ${port} to be ready` }).catch(
    async (error) => {
      throw new Error(`${error.message}\n${await process.tail()}`);
    },
  );
}
