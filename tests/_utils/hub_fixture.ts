/**
 * A hub on the host test cluster and the means to connect agents for a member: the Cluster
 * CRD, a registered agent token, and the member's impersonation-only ServiceAccount. Hub and
 * agents are real `mca` processes (a keep-alive bug once showed only with them apart), so tests
 * see what an operator sees: logs, `/metrics`, the Cluster's status.
 */
import {
  AGENT_TOKEN_LABEL,
  agentTokenSecretName,
  hashToken,
  newAgentToken,
  TOKEN_HASH_KEY,
} from "../../src/members/mod.ts";
import { renderKubeconfig } from "../../src/kube/mod.ts";
import { computeCaPin } from "../../src/pki/mod.ts";
import {
  freePort,
  type ManagedProcess,
  type TestCluster,
  type TestEnv,
} from "../../src/testenv/mod.ts";
import { waitFor } from "../../src/common/mod.ts";
import { type HubProcess, startHubProcess } from "./hub_process.ts";
import { startMca } from "./mca_process.ts";
import { kubectl, kubectlOk, uniqueName } from "./e2e.ts";
import { tempDir } from "./temp_dir.ts";

const CRD = new URL("../../deploy/crds/clusters.mca.k8s.io.yaml", import.meta.url).pathname;

/** An agent process. */
export interface FixtureAgent {
  process: ManagedProcess;
  /** How many times it has connected to the hub so far (from its log). */
  connections(): Promise<number>;
  /** How many tunnelled requests it has served so far (from its debug log). */
  requests(): Promise<number>;
  /** Its `/metrics` text; only for an agent started with `healthListen`. */
  metrics(): Promise<string>;
  stop(): Promise<void>;
}

/** A hub process and how to attach agents to it. */
export interface HubFixture {
  /** The current hub process (a new one after `restartHub()`). */
  hub: HubProcess;
  /** The hub's namespace on the host: its CA Secret and the agent tokens' hashes. */
  namespace: string;
  hubCaFile: string;
  /**
   * Registers a member (token hash on the host) and gives it an impersonating ServiceAccount.
   * The Cluster allows privileged host identities unless `identityMapping` says otherwise: most
   * tests reach members with the host admin's token (system:masters).
   */
  registerMember(
    member: TestCluster,
    options?: {
      name?: string;
      memberKubeconfig?: string;
      identityMapping?: Record<string, unknown>;
    },
  ): Promise<string>;
  /** The agent token file and the impersonating member kubeconfig of a registered member. */
  memberFiles(name: string): { tokenFile: string; memberKubeconfig: string };
  /** Starts an `mca agent` process for a registered member (with another token file if given). */
  startAgent(
    name: string,
    options?: { tokenFile?: string; healthListen?: boolean; hubUrl?: string },
  ): Promise<FixtureAgent>;
  /** Starts an agent for a registered member and waits until the hub holds it. */
  connectAgent(name: string): Promise<FixtureAgent>;
  /** Restarts the hub process on the same port(s) (its CA is kept in the Secret). */
  restartHub(): Promise<void>;
  stop(): Promise<void>;
}

/** How the hub process runs. */
export interface HubFixtureOptions {
  /** Run it as this replica (with a peer listener). */
  replicaId?: string;
  hubArgs?: string[];
}

/** Starts a hub process in its own namespace on the host, optionally as a named replica. */
export async function startHubFixture(
  env: TestEnv,
  dir: string,
  options: HubFixtureOptions = {},
): Promise<HubFixture> {
  const host = env.cluster("host");
  await kubectlOk(host, ["apply", "-f", CRD]);
  await kubectlOk(host, [
    "wait",
    "--for=condition=Established",
    "crd/clusters.mca.k8s.io",
    "--timeout=30s",
  ]);
  const namespace = uniqueName("mca-hub");
  await kubectlOk(host, ["create", "namespace", namespace]);
  let hub = await startHubProcess(host, dir, {
    namespace,
    ...(options.hubArgs ? { args: options.hubArgs } : {}),
    ...(options.replicaId ? { replica: { id: options.replicaId } } : {}),
  });
  const hubCaFile = `${dir}/hub-ca.crt`;
  await Deno.writeTextFile(hubCaFile, hub.caPem);
  const pin = await computeCaPin(hub.caPem);
  const members = new Map<string, { tokenFile: string; memberKubeconfig: string }>();
  const agents: FixtureAgent[] = [];
  const fixture: HubFixture = {
    get hub() {
      return hub;
    },
    namespace,
    hubCaFile,
    async registerMember(member, options = {}) {
      const name = options.name ?? uniqueName(member.name);
      await waitFor(async () =>
        (await kubectl(host, ["apply", "-f", "-"], {
          stdin: JSON.stringify({
            apiVersion: "mca.k8s.io/v1alpha1",
            kind: "Cluster",
            metadata: { name },
            spec: { identityMapping: options.identityMapping ?? { allowPrivileged: true } },
          }),
        })).code === 0, { description: "the Cluster kind to be served" });
      const token = newAgentToken();
      await host.client.create(`/api/v1/namespaces/${namespace}/secrets`, {
        metadata: { name: agentTokenSecretName(name), labels: { [AGENT_TOKEN_LABEL]: "true" } },
        data: { [TOKEN_HASH_KEY]: btoa(await hashToken(token)) },
      });
      const tokenFile = `${dir}/${name}.token`;
      await Deno.writeTextFile(tokenFile, token);
      let memberKubeconfig = options.memberKubeconfig;
      if (!memberKubeconfig) {
        const agentNs = uniqueName("mca-agent");
        await kubectlOk(member, ["create", "namespace", agentNs]);
        await kubectlOk(member, ["create", "serviceaccount", "mca-agent", "-n", agentNs]);
        await kubectlOk(member, ["apply", "-f", "-"], {
          stdin: JSON.stringify({
            apiVersion: "rbac.authorization.k8s.io/v1",
            kind: "ClusterRole",
            metadata: { name: `${agentNs}-impersonate` },
            rules: [
              {
                apiGroups: [""],
                resources: ["users", "groups", "serviceaccounts"],
                verbs: ["impersonate"],
              },
              { apiGroups: ["authentication.k8s.io"], resources: ["*"], verbs: ["impersonate"] },
            ],
          }),
        });
        await kubectlOk(member, [
          "create",
          "clusterrolebinding",
          `${agentNs}-impersonate`,
          `--clusterrole=${agentNs}-impersonate`,
          `--serviceaccount=${agentNs}:mca-agent`,
        ]);
        const memberToken = (await kubectlOk(member, [
          "create",
          "token",
          "mca-agent",
          "-n",
          agentNs,
          "--duration=1h",
        ])).trim();
        memberKubeconfig = `${dir}/${name}.member.kubeconfig`;
        await Deno.writeTextFile(
          memberKubeconfig,
          renderKubeconfig([{
            name: "member",
            server: member.url,
            caPem: member.caPem,
            user: { token: memberToken },
          }]),
        );
      }
      members.set(name, { tokenFile, memberKubeconfig });
      return name;
    },
    memberFiles(name) {
      const files = members.get(name);
      if (!files) throw new Error(`Member "${name}" is not registered`);
      return files;
    },
    async startAgent(name, agentOptions = {}) {
      const member = fixture.memberFiles(name);
      const healthPort = agentOptions.healthListen ? freePort() : undefined;
      const process = await startMca([
        "agent",
        // The port survives hub restarts, so agents find the hub again.
        `--hub=${agentOptions.hubUrl ?? `https://127.0.0.1:${hub.port}`}`,
        `--cluster=${name}`,
        `--token-file=${agentOptions.tokenFile ?? member.tokenFile}`,
        `--hub-ca-file=${hubCaFile}`,
        `--hub-ca-pin=${pin}`,
        `--member-kubeconfig=${member.memberKubeconfig}`,
        `--health-listen=${healthPort ? `127.0.0.1:${healthPort}` : ""}`,
        "--log-format=text",
        // Every served request leaves a line: tests count them per agent.
        "--log-level=debug",
      ], { dir, name: `agent-${name}` });
      const lines = async (start: string) =>
        (await Deno.readTextFile(process.logPath)).split("\n").filter((line) =>
          line.startsWith(start)
        ).length;
      const agent: FixtureAgent = {
        process,
        connections: () => lines("INFO connected to the hub "),
        requests: () => lines("DEBUG request "),
        async metrics() {
          if (!healthPort) throw new Error("The agent was started without a health listener");
          const response = await fetch(`http://127.0.0.1:${healthPort}/metrics`);
          if (response.status !== 200) {
            await response.body?.cancel();
            throw new Error(`The agent's /metrics answered ${response.status}`);
          }
          return await response.text();
        },
        stop: () => process.stop(),
      };
      agents.push(agent);
      return agent;
    },
    async connectAgent(name) {
      const agent = await fixture.startAgent(name);
      await waitFor(async () => (await hub.agents(name)) === 1, {
        description: "the agent to connect",
      });
      return agent;
    },
    async restartHub() {
      await hub.stop();
      hub = await startHubProcess(host, dir, {
        namespace,
        port: hub.port,
        ...(options.hubArgs ? { args: options.hubArgs } : {}),
        ...(options.replicaId
          ? {
            replica: { id: options.replicaId, ...(hub.peerPort ? { peerPort: hub.peerPort } : {}) },
          }
          : {}),
      });
    },
    async stop() {
      await Promise.all(agents.map((agent) => agent.stop()));
      await hub.stop();
    },
  };
  return fixture;
}

/** Runs `test` with a hub fixture of its own in a fresh folder; stops its hub and agents after. */
export async function withHubFixture(
  env: TestEnv,
  test: (fixture: HubFixture, dir: string) => Promise<void>,
  options: HubFixtureOptions = {},
): Promise<void> {
  await using dir = await tempDir();
  const fixture = await startHubFixture(env, dir.path, options);
  try {
    await test(fixture, dir.path);
  } finally {
    await fixture.stop();
  }
}

/**
 * Lets a ServiceAccount of the host reach a member through the hub: `verbs` on the member's
 * clusters/proxy (mca.k8s.io), as host RBAC decides.
 */
export async function allowClusterProxy(
  host: TestCluster,
  member: string,
  account: { namespace: string; name: string },
  verbs: string[],
): Promise<void> {
  const name = `${account.namespace}-${account.name}-proxy`;
  await kubectlOk(host, [
    "create",
    "clusterrole",
    name,
    `--verb=${verbs.join(",")}`,
    "--resource=clusters.mca.k8s.io/proxy",
    `--resource-name=${member}`,
  ]);
  await kubectlOk(host, [
    "create",
    "clusterrolebinding",
    name,
    `--clusterrole=${name}`,
    `--serviceaccount=${account.namespace}:${account.name}`,
  ]);
}
