/** `mca kubeconfig`: writes a kubeconfig whose contexts reach member clusters through the hub. */
import { hubKubeconfig } from "../members/mod.ts";
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
  /** Contexts through the host API server (the aggregated entrance) instead of the hub. */
  viaHostApiServer?: boolean;
}

/** Lists the Cluster objects on the host (unless --clusters names them) and writes the kubeconfig. */
export async function kubeconfigCommand(
  options: KubeconfigCommandOptions,
  io: { stdout(text: string): void; stderr(text: string): void },
): Promise<void> {
  const { text, clusters } = await hubKubeconfig({
    hub: await hubOf(options),
    clusters: options.clusters?.split(",").map((c) => c.trim()).filter(Boolean),
    kubeconfig: options.kubeconfig,
    context: options.context,
    prefix: options.prefix,
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

/** The hub and its CA from the flags; undefined with --via-host-api-server. */
async function hubOf(
  options: KubeconfigCommandOptions,
): Promise<{ url: string; caPem: string } | undefined> {
  if (options.viaHostApiServer) {
    if (options.hub || options.hubCaFile) {
      throw new UsageError(
        "--via-host-api-server goes through the host API server: leave out --hub and --hub-ca-file",
      );
    }
    return undefined;
  }
  if (!options.hub) {
    throw new UsageError(
      "--hub is required, e.g. --hub https://hub.example.com:9443 (or --via-host-api-server)",
    );
  }
  if (!options.hubCaFile) {
    throw new UsageError("--hub-ca-file is required (the hub's CA certificate)");
  }
  const caPem = await Deno.readTextFile(options.hubCaFile).catch((error) => {
    throw new Error(
      `Cannot read --hub-ca-file "${options.hubCaFile}": ${(error as Error).message}`,
    );
  });
  return { url: options.hub, caPem };
}
