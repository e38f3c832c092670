/** `mca kubeconfig`: writes a kubeconfig whose contexts reach member clusters through the hub. */
import { hubUserOf, memberKubeconfig } from "../members/mod.ts";
import {
  createKubeClient,
  createKubeTransport,
  loadKubeconfig,
  resolveClientConfig,
} from "../kube/mod.ts";
import { UsageError } from "./run_program.ts";

/** Flags of `mca kubeconfig`. */
export interface KubeconfigCommandOptions {
  hub?: string;
  hubCaFile?: string;
  clusters?: string;
  kubeconfig?: string;
  context?: string;
  prefix?: string;
  output?: string;
}

/** Lists the Cluster objects on the host (unless --clusters names them) and writes the kubeconfig. */
export async function kubeconfigCommand(
  options: KubeconfigCommandOptions,
  io: { stdout(text: string): void; stderr(text: string): void },
): Promise<void> {
  if (!options.hub) {
    throw new UsageError("--hub is required, e.g. --hub https://hub.example.com:9443");
  }
  if (!options.hubCaFile) {
    throw new UsageError("--hub-ca-file is required (the hub's CA certificate)");
  }
  const caPem = await Deno.readTextFile(options.hubCaFile).catch((error) => {
    throw new Error(
      `Cannot read --hub-ca-file "${options.hubCaFile}": ${(error as Error).message}`,
    );
  });
  const config = await loadKubeconfig({
    ...(options.kubeconfig ? { kubeconfig: options.kubeconfig } : {}),
  });
  const contextName = options.context || config["current-context"] || "";
  const context = config.contexts.find((c) => c.name === contextName);
  const userName = context?.value.user ?? "";
  const user = config.users.find((u) => u.name === userName);
  if (!user) {
    throw new Error(`Context "${contextName}" has no user to copy into the hub kubeconfig`);
  }
  let clusters = options.clusters?.split(",").map((c) => c.trim()).filter(Boolean);
  if (!clusters) {
    const client = createKubeClient(createKubeTransport(
      await resolveClientConfig(config, {
        ...(options.context ? { context: options.context } : {}),
      }, Deno.readTextFile),
    ));
    try {
      const list = await client.list<{ metadata: { name: string } }>(
        "/apis/mca.k8s.io/v1alpha1/clusters",
      );
      clusters = list.items.map((item) => item.metadata.name);
    } finally {
      client.transport.close();
    }
  }
  if (clusters.length === 0) {
    throw new Error("No member clusters: register one with the hub, or pass --clusters");
  }
  const text = memberKubeconfig({
    hubUrl: options.hub,
    caPem,
    clusters,
    user: hubUserOf(user.value, user.name),
    ...(options.prefix ? { prefix: options.prefix } : {}),
  });
  if (options.output) {
    await Deno.writeTextFile(options.output, text, { mode: 0o600 });
    io.stderr(
      `Wrote ${clusters.length} context(s) (${clusters.join(", ")}) to ${options.output}\n`,
    );
  } else {
    io.stdout(text);
  }
}
