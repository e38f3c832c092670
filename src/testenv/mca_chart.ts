/**
 * charts/mca installed with helm on the host cluster of an environment with nodes, from the
 * locally built mca image: the webhook and the hub as the chart deploys them, the hub also on a
 * NodePort of host's node (its address in the hub's certificate) so that agents on the other
 * clusters' nodes can dial it. The demo and the chart's end-to-end tests share it.
 */
import { runHostOk } from "./_host_command.ts";
import { findChartTools } from "./chart_tools.ts";
import type { TestEnv } from "./test_env.ts";

/** The chart in this checkout. */
export const MCA_CHART_DIR = new URL("../../charts/mca", import.meta.url).pathname;
/** The port of the hub's NodePort Service on host's node. */
export const HUB_NODE_PORT = 30443;
/** Release and namespace, the defaults the mca commands expect (`mca agent install`). */
export const MCA_NAMESPACE = "mca-system";

/** Options of installMcaChart. */
export interface McaChartOptions {
  /** The helm binary; default the one in the chart tools' cache. */
  helm?: string;
  /** Wait (helm --wait) until the Deployments are available; default true. */
  wait?: boolean;
}

/** Where the installed hub is reached. */
export interface McaChartInstall {
  /** The hub as agents on other clusters' nodes and this machine dial it (host's node, NodePort). */
  hubUrl: string;
  /** The hub as pods of the host cluster reach it (its Service's DNS name). */
  hubServiceUrl: string;
}

/** `helm install mca charts/mca` on the environment's "host" cluster. */
export async function installMcaChart(
  env: TestEnv,
  options: McaChartOptions = {},
): Promise<McaChartInstall> {
  const host = env.cluster("host");
  if (!host.node || !env.images) {
    throw new Error("The mca chart runs on clusters with nodes (startTestEnv({ nodes: true }))");
  }
  const helm = options.helm ?? (await findChartTools()).helm;
  const [repository, tag] = env.images.mca.ref.split(":") as [string, string];
  const hubAddress = host.node.network.nodeIp;
  await runHostOk(helm, [
    "install",
    "mca",
    MCA_CHART_DIR,
    `--kubeconfig=${host.kubeconfigPath}`,
    `--namespace=${MCA_NAMESPACE}`,
    "--create-namespace",
    `--set=image.repository=${repository}`,
    `--set=image.tag=${tag}`,
    "--set=image.pullPolicy=Never",
    "--set=hub.service.type=NodePort",
    `--set=hub.service.nodePort=${HUB_NODE_PORT}`,
    `--set=hub.ipAddresses={${hubAddress}}`,
    ...(options.wait ?? true ? ["--wait", "--timeout=3m"] : []),
  ]);
  return {
    hubUrl: `https://${hubAddress}:${HUB_NODE_PORT}`,
    hubServiceUrl: `https://mca-hub.${MCA_NAMESPACE}.svc`,
  };
}
