/**
 * Helpers of the hub CA rollover tests: a member installed by `mca agent install` whose agents
 * run from exactly what install gave them, `mca hub ca rotate`, and what the host shows.
 */
import tls from "node:tls";
import { assertEquals } from "./assert.ts";
import { allowPrivilegedHostIdentities } from "./cluster_mapping.ts";
import { kubectlOk, uniqueName } from "./e2e.ts";
import type { HubFixture } from "./hub_fixture.ts";
import { runMca } from "./mca_process.ts";
import type { TempDir } from "./temp_dir.ts";
import { renderKubeconfig } from "../../src/kube/mod.ts";
import type { ManagedProcess, TestCluster } from "../../src/testenv/mod.ts";
import { waitFor } from "../../src/common/mod.ts";

/** The member side as `mca agent install` left it, and how to run its agent from it. */
export interface InstalledMember {
  name: string;
  agentNamespace: string;
  /** The Deployment's agent flags, with the files of its Secret and token mount on disk. */
  agentArgs(options: { trustSecret: boolean }): string[];
}

export async function installMember(
  fixture: HubFixture,
  { host, member, dir }: { host: TestCluster; member: TestCluster; dir: TempDir },
): Promise<InstalledMember> {
  const name = uniqueName(member.name);
  const agentNamespace = uniqueName("mca-agent");
  const installed = await runMca([
    "agent",
    "install",
    `--hub=${fixture.hub.url}`,
    `--cluster=${name}`,
    `--kubeconfig=${host.kubeconfigPath}`,
    `--member-kubeconfig=${member.kubeconfigPath}`,
    `--hub-namespace=${fixture.namespace}`,
    `--agent-namespace=${agentNamespace}`,
    "--wait=0",
  ]);
  assertEquals(installed.code, 0, installed.stderr);
  // The load goes through the hub as the host admin (system:masters).
  await allowPrivilegedHostIdentities(host, name);
  const secret = JSON.parse(
    await kubectlOk(member, ["get", "secret", "mca-agent", "-n", agentNamespace, "-o", "json"]),
  );
  const deployment = JSON.parse(
    await kubectlOk(member, ["get", "deployment", "mca-agent", "-n", agentNamespace, "-o", "json"]),
  );
  const saToken = (await kubectlOk(member, ["create", "token", "mca-agent", "-n", agentNamespace]))
    .trim();
  const kubeconfig = await dir.write(
    `${name}.kubeconfig`,
    renderKubeconfig([{
      name: "m",
      server: member.url,
      caPem: member.caPem,
      user: { token: saToken },
    }]),
  );
  // The pod mounts the Secret at /var/run/secrets/mca/agent: here the same files in a folder.
  const mount = `${name}-secret`;
  await dir.write(`${mount}/token`, atob(secret.data.token));
  await dir.write(`${mount}/hub-ca.crt`, atob(secret.data["hub-ca.crt"]));
  const args: string[] = deployment.spec.template.spec.containers[0].args;
  return {
    name,
    agentNamespace,
    agentArgs: ({ trustSecret }) => [
      ...args
        .filter((arg) => trustSecret || !arg.startsWith("--hub-trust-secret="))
        .map((arg) => arg.replace("/var/run/secrets/mca/agent", `${dir.path}/${mount}`))
        // In the pod $POD_NAMESPACE completes it; a process names the namespace itself.
        .map((arg) =>
          arg.replace(/^--agent-secret=([^/]+)$/, `--agent-secret=${agentNamespace}/$1`)
        ),
      `--member-kubeconfig=${kubeconfig}`,
      "--health-listen=",
      "--log-format=text",
    ],
  };
}

/** A replica's entry in the Cluster's status.hubCaTrust ("hub" for a hub without replicas). */
export async function hubCaTrust(host: TestCluster, cluster: string, replica = "hub") {
  const object = await host.client.get<{
    status?: {
      hubCaTrust?: Record<string, { pins: string[]; agentsHolding: number; agents: number }>;
    };
  }>(`/apis/mca.k8s.io/v1alpha1/clusters/${cluster}`);
  return object.status?.hubCaTrust?.[replica];
}

/** Waits until a replica's entry shows `agents` agents holding exactly `pins`. */
export function holding(
  host: TestCluster,
  cluster: string,
  { pins, agents, replica = "hub" }: { pins: string[]; agents: number; replica?: string },
) {
  return waitFor(async () => {
    const trust = await hubCaTrust(host, cluster, replica);
    return trust && trust.agents === agents && trust.agentsHolding === agents &&
        trust.pins.length === pins.length && pins.every((pin) => trust.pins.includes(pin)) ||
      undefined;
  }, { description: `${agents} agent(s) of "${cluster}" holding ${pins.length} pin(s)` });
}

/** Whether a TLS client trusting only `caPem` accepts what the hub serves now. */
export function servedBy(port: number, caPem: string, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host, port, ca: caPem }, () => {
      resolve(socket.authorized);
      socket.destroy();
    });
    socket.once("error", () => resolve(false));
  });
}

export async function hubCaSecret(host: TestCluster, namespace: string) {
  const secret = await host.client.get<{ data: Record<string, string> }>(
    `/api/v1/namespaces/${namespace}/secrets/mca-hub-ca`,
  );
  return Object.fromEntries(Object.entries(secret.data).map(([k, v]) => [k, atob(v)]));
}

export async function rotate(host: TestCluster, namespace: string, phase: string) {
  return await runMca([
    "hub",
    "ca",
    "rotate",
    `--phase=${phase}`,
    `--namespace=${namespace}`,
    `--kubeconfig=${host.kubeconfigPath}`,
  ]);
}

/** The "INFO connected to the hub" lines of an agent's log. */
export async function connections(agent: ManagedProcess): Promise<number> {
  return (await Deno.readTextFile(agent.logPath)).split("\n")
    .filter((line) => line.startsWith("INFO connected to the hub ")).length;
}
