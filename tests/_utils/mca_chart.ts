/**
 * mca as it is deployed, on the test clusters with nodes: charts/mca installed with helm on
 * host from the locally built image, `mca agent install` for members, a kubeconfig through the
 * hub, and namespaces whose pods the webhook injects. Each is done once per environment.
 */
import { allowPrivilegedHostIdentities } from "./cluster_mapping.ts";
import { kubectlOk } from "./e2e.ts";
import { mcaCommand } from "./mca_process.ts";
import { runCommand } from "./run_command.ts";
import { renderKubeconfig } from "../../src/kube/mod.ts";
import {
  installMcaChart as helmInstallMca,
  MCA_NAMESPACE,
  type TestCluster,
  type TestEnv,
} from "../../src/testenv/mod.ts";

/** The hub as pods of host reach it (the chart's Service; its name is in the hub certificate). */
export const HUB_SERVICE_URL = `https://mca-hub.${MCA_NAMESPACE}.svc:443`;

/** What an installed chart offers the tests. */
export interface InstalledChart {
  /** The hub URL agents and workstations dial (host's node address and the NodePort). */
  hubUrl: string;
  /** The hub CA certificate (PEM), as agents pin it. */
  hubCaPem: string;
}

const installs = new WeakMap<TestEnv, Promise<InstalledChart>>();
const agents = new WeakMap<TestEnv, Map<string, Promise<void>>>();

/**
 * Installs the chart once per environment (release "mca" in "mca-system", as the mca commands
 * expect) with the hub on a NodePort of host's node, whose address is in the hub's certificate.
 */
export function installMcaChart(env: TestEnv): Promise<InstalledChart> {
  let done = installs.get(env);
  if (!done) {
    done = install(env);
    installs.set(env, done);
  }
  return done;
}

async function install(env: TestEnv): Promise<InstalledChart> {
  const { hubUrl } = await helmInstallMca(env);
  const secret = JSON.parse(
    await kubectlOk(env.cluster("host"), [
      "get",
      "secret",
      "mca-hub-ca",
      "-n",
      MCA_NAMESPACE,
      "-o",
      "json",
    ]),
  );
  return { hubUrl, hubCaPem: atob(secret.data["ca.crt"]) };
}

/**
 * `mca agent install` for a member (once per environment and member): its agents run on its node;
 * its Cluster lets the host admin through as admin.
 */
export function installAgent(env: TestEnv, member: string): Promise<void> {
  let byMember = agents.get(env);
  if (!byMember) agents.set(env, byMember = new Map());
  let done = byMember.get(member);
  if (!done) {
    done = (async () => {
      const { hubUrl } = await installMcaChart(env);
      const dir = await Deno.makeTempDir({ prefix: "mca-agent-install-" });
      try {
        const [command, ...prefix] = mcaCommand();
        await runOk(command!, [
          ...prefix,
          "agent",
          "install",
          `--hub=${hubUrl}`,
          `--cluster=${member}`,
          `--kubeconfig=${await hostAdminKubeconfig(env, dir)}`,
          `--member-kubeconfig=${env.cluster(member).kubeconfigPath}`,
          `--image=${env.images!.mca.ref}`,
          "--wait=3m",
        ]);
        // Tests reach members through the hub as the host admin (system:masters).
        await allowPrivilegedHostIdentities(env.cluster("host"), member);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    })();
    byMember.set(member, done);
  }
  return done;
}

/**
 * Writes (with `mca kubeconfig`) a kubeconfig whose contexts reach the members through the hub
 * as host's admin, into `dir`; returns its path.
 */
export async function hubKubeconfig(
  env: TestEnv,
  dir: string,
  members: string[],
): Promise<string> {
  const { hubUrl, hubCaPem } = await installMcaChart(env);
  for (const member of members) await installAgent(env, member);
  const caFile = `${dir}/hub-ca.crt`;
  await Deno.writeTextFile(caFile, hubCaPem);
  const output = `${dir}/members.kubeconfig`;
  const [command, ...prefix] = mcaCommand();
  await runOk(command!, [
    ...prefix,
    "kubeconfig",
    `--hub=${hubUrl}`,
    `--hub-ca-file=${caFile}`,
    `--clusters=${members.join(",")}`,
    `--kubeconfig=${await hostAdminKubeconfig(env, dir)}`,
    "-o",
    output,
  ]);
  return output;
}

/**
 * Waits until the host API server reaches the hub for the aggregated entrance, then writes (with
 * `mca kubeconfig --via-host-api-server`) the host admin's own kubeconfig (client certificate)
 * through it, with a context per member, to `<dir>/via-host.kubeconfig`; returns its path.
 */
export async function viaHostApiKubeconfig(
  env: TestEnv,
  dir: string,
  members: string[],
): Promise<string> {
  const host = env.cluster("host");
  await kubectlOk(host, [
    "wait",
    "--for=condition=Available",
    "apiservice/v1alpha1.proxy.mca.k8s.io",
    "--timeout=120s",
  ]);
  const output = `${dir}/via-host.kubeconfig`;
  const [command, ...prefix] = mcaCommand();
  await runOk(command!, [
    ...prefix,
    "kubeconfig",
    "--via-host-api-server",
    `--kubeconfig=${host.kubeconfigPath}`,
    `--clusters=${members.join(",")}`,
    "-o",
    output,
  ]);
  return output;
}

/**
 * The host admin's static token in a kubeconfig: the hub authenticates bearer tokens
 * (TokenReview), not client certificates.
 */
export async function hostAdminKubeconfig(env: TestEnv, dir: string): Promise<string> {
  const host = env.cluster("host");
  const path = `${dir}/host-token.kubeconfig`;
  await Deno.writeTextFile(
    path,
    renderKubeconfig([{
      name: "host",
      server: host.url,
      caPem: host.caPem,
      user: { token: host.adminToken },
    }]),
    { mode: 0o600 },
  );
  return path;
}

/**
 * A new namespace on `cluster` whose pods the webhook injects (label `mca.k8s.io/inject:
 * enabled`), where the `default` ServiceAccount may edit; returns its name once that
 * ServiceAccount exists.
 */
export async function injectedNamespace(cluster: TestCluster, name: string): Promise<string> {
  await kubectlOk(cluster, ["create", "namespace", name]);
  await kubectlOk(cluster, ["label", "namespace", name, "mca.k8s.io/inject=enabled"]);
  await editRole(cluster, name);
  return name;
}

/**
 * Lets the ServiceAccount `<namespace>:default` edit `namespace` on `cluster` (creating the
 * namespace when it is missing), and on a member the host's `<namespace>:default` as the agents
 * impersonate it (prefixed `mca:host:`, the Cluster's default mapping).
 */
export async function editRole(cluster: TestCluster, namespace: string): Promise<void> {
  await kubectlOk(cluster, [
    "create",
    "namespace",
    namespace,
    "--dry-run=client",
    "-o",
    "yaml",
  ]).then((yaml) => kubectlOk(cluster, ["apply", "-f", "-"], { stdin: yaml }));
  await kubectlOk(cluster, [
    "create",
    "rolebinding",
    "default-edit",
    "-n",
    namespace,
    "--clusterrole=edit",
    `--serviceaccount=${namespace}:default`,
    `--user=mca:host:system:serviceaccount:${namespace}:default`,
  ]);
  await kubectlOk(cluster, [
    "wait",
    "-n",
    namespace,
    "--for=create",
    "serviceaccount/default",
    "--timeout=60s",
  ]);
}

async function runOk(command: string, args: string[]): Promise<string> {
  const result = await runCommand(command, args);
  if (result.code !== 0) {
    throw new Error(
      `${command} ${args.join(" ")} failed (${result.code}):\n${result.stderr}${result.stdout}`,
    );
  }
  return result.stdout;
}
