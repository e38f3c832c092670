/** The objects `mca agent install` puts in a member cluster (pure). */
import { computeCaPin } from "../pki/mod.ts";
import { MCA_VERSION } from "../version.ts";
import { parseProxyUrl } from "../tunnel/mod.ts";
import { AGENT_INSTALL_DEFAULTS, type AgentEgress } from "./agent_install_options.ts";

/** What the manifests depend on. */
export interface AgentManifestOptions {
  cluster: string;
  hubUrl: string;
  namespace: string;
  image?: string;
  replicas?: number;
  /** Secret contents; omitted in `--dry-run` output where the token must not be printed. */
  token?: string;
  /**
   * A join token instead of an agent token: the agent redeems it at the hub and stores its agent
   * token in its Secret itself (static manifests for GitOps; no host credential on the member).
   */
  joinToken?: string;
  /** `--token-rotation-interval` of the agent. */
  tokenRotationInterval?: string;
  hubCaPem: string;
  hubCaPin: string;
  /**
   * Only for a Cluster whose requests run as the agent itself (identity AgentServiceAccount):
   * the ClusterRole the agent acts with. Without it the agent may only impersonate.
   */
  agentClusterRole?: string;
  /** The agent's proxy environment and keepalive interval. */
  egress?: AgentEgress;
  /** Adds a PodMonitor (monitoring.coreos.com/v1) that scrapes the agents' /metrics. */
  podMonitor?: boolean;
}

/** The name of the agent's objects in the member. */
export const AGENT_NAME = "mca-agent";

/** The labels on every object of the agent (what `mca agent uninstall` selects by). */
export const AGENT_LABELS: Readonly<Record<string, string>> = {
  "app.kubernetes.io/name": AGENT_NAME,
  "app.kubernetes.io/part-of": "mca",
};

/** The agent container's port of /healthz, /readyz and /metrics (plain HTTP). */
export const AGENT_METRICS_PORT = 8081;

/**
 * Namespace, ServiceAccount, impersonation-only RBAC, access to its own Secret, Secret and
 * Deployment (and the optional PodMonitor), in apply order.
 */
export function agentManifests(options: AgentManifestOptions): Record<string, unknown>[] {
  const labels = { ...AGENT_LABELS };
  const ns = options.namespace;
  return [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: ns, labels } },
    {
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name: AGENT_NAME, namespace: ns, labels },
    },
    ...ownSecretRbac(ns),
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: `${AGENT_NAME}-impersonator`, labels },
      // Only impersonation: every request runs as its caller, and the member's RBAC decides.
      // ("userextras/*" would miss extras whose key holds a "/", such as credential-id.)
      rules: [
        {
          apiGroups: [""],
          resources: ["users", "groups", "serviceaccounts"],
          verbs: ["impersonate"],
        },
        { apiGroups: ["authentication.k8s.io"], resources: ["*"], verbs: ["impersonate"] },
      ],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: `${AGENT_NAME}-impersonator`, labels },
      roleRef: {
        apiGroup: "rbac.authorization.k8s.io",
        kind: "ClusterRole",
        name: `${AGENT_NAME}-impersonator`,
      },
      subjects: [{ kind: "ServiceAccount", name: AGENT_NAME, namespace: ns }],
    },
    ...(options.agentClusterRole
      ? [{
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRoleBinding",
        metadata: { name: `${AGENT_NAME}-acts-as-itself`, labels },
        // The explicit opt-in: every caller the hub lets through acts with this role.
        roleRef: {
          apiGroup: "rbac.authorization.k8s.io",
          kind: "ClusterRole",
          name: options.agentClusterRole,
        },
        subjects: [{ kind: "ServiceAccount", name: AGENT_NAME, namespace: ns }],
      }]
      : []),
    {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: AGENT_NAME, namespace: ns, labels },
      type: "Opaque",
      stringData: {
        ...secretToken(options),
        "hub-ca.crt": options.hubCaPem,
        "hub-ca-pin": options.hubCaPin,
        ...(proxyInSecret(options.egress)
          ? { [HTTPS_PROXY_KEY]: options.egress!.httpsProxy! }
          : {}),
      },
    },
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: AGENT_NAME, namespace: ns, labels },
      spec: {
        replicas: options.replicas ?? Number(AGENT_INSTALL_DEFAULTS.replicas),
        selector: { matchLabels: { "app.kubernetes.io/name": AGENT_NAME } },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: AGENT_NAME,
            securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
            containers: [{
              name: "agent",
              image: options.image ?? `ghcr.io/mca-k8s/mca:v${MCA_VERSION}`,
              args: [
                "agent",
                `--hub=${options.hubUrl}`,
                `--cluster=${options.cluster}`,
                `--agent-secret=${AGENT_NAME}`,
                "--hub-ca-file=/var/run/secrets/mca/agent/hub-ca.crt",
                `--hub-ca-pin=${options.hubCaPin}`,
                `--hub-trust-secret=${ns}/${AGENT_NAME}`,
                ...(options.tokenRotationInterval
                  ? [`--token-rotation-interval=${options.tokenRotationInterval}`]
                  : []),
                ...(options.egress?.keepaliveInterval
                  ? [`--keepalive-interval=${options.egress.keepaliveInterval}`]
                  : []),
              ],
              env: [
                // --agent-secret names the Secret in the agent's own namespace.
                {
                  name: "POD_NAMESPACE",
                  valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } },
                },
                ...egressEnv(options.egress),
              ],
              // Named for what scrapers select it by (the PodMonitor); the probes use it too.
              ports: [{ name: "metrics", containerPort: AGENT_METRICS_PORT }],
              readinessProbe: { httpGet: { path: "/readyz", port: "metrics" }, periodSeconds: 5 },
              livenessProbe: { httpGet: { path: "/healthz", port: "metrics" }, periodSeconds: 10 },
              resources: { requests: { cpu: "20m", memory: "64Mi" }, limits: { memory: "256Mi" } },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ["ALL"] },
              },
              volumeMounts: [{
                name: "agent",
                mountPath: "/var/run/secrets/mca/agent",
                readOnly: true,
              }],
            }],
            terminationGracePeriodSeconds: 45,
            volumes: [{ name: "agent", secret: { secretName: AGENT_NAME } }],
          },
        },
      },
    },
    ...(options.podMonitor ? [agentPodMonitor(ns, labels)] : []),
  ];
}

/** The token keys of the agent's Secret: the agent token, a join token, or a placeholder. */
function secretToken(options: AgentManifestOptions): Record<string, string> {
  if (options.token) return { token: options.token };
  if (options.joinToken) return { "join-token": options.joinToken };
  return { token: "<set by mca agent install>" };
}

/**
 * The agent reads and writes its own Secret (and nothing else there): it stores the agent
 * token a join gave it, and rotates it, and the hub CAs it learns during a CA rollover.
 */
function ownSecretRbac(namespace: string): Record<string, unknown>[] {
  const labels = { ...AGENT_LABELS };
  return [
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: AGENT_NAME, namespace, labels },
      rules: [{
        apiGroups: [""],
        resources: ["secrets"],
        resourceNames: [AGENT_NAME],
        verbs: ["get", "patch"],
      }],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: AGENT_NAME, namespace, labels },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: AGENT_NAME },
      subjects: [{ kind: "ServiceAccount", name: AGENT_NAME, namespace }],
    },
  ];
}

/** The agents' /metrics for the Prometheus Operator: plain HTTP on the named port, no token. */
function agentPodMonitor(namespace: string, labels: Record<string, string>) {
  return {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "PodMonitor",
    metadata: { name: AGENT_NAME, namespace, labels },
    spec: {
      selector: { matchLabels: { "app.kubernetes.io/name": AGENT_NAME } },
      podMetricsEndpoints: [{ port: "metrics", path: "/metrics" }],
    },
  };
}

/** The agent Secret's key of a proxy URL with credentials. */
export const HTTPS_PROXY_KEY = "https-proxy";

/** Whether the proxy URL carries credentials: then it lives in the Secret, not the pod spec. */
function proxyInSecret(egress: AgentEgress | undefined): boolean {
  return !!egress?.httpsProxy && parseProxyUrl(egress.httpsProxy).authorization !== undefined;
}

/** HTTPS_PROXY (from the Secret when it holds credentials) and NO_PROXY of the agent. */
function egressEnv(egress: AgentEgress | undefined): Record<string, unknown>[] {
  const env: Record<string, unknown>[] = [];
  if (egress?.httpsProxy) {
    env.push(
      proxyInSecret(egress)
        ? {
          name: "HTTPS_PROXY",
          valueFrom: { secretKeyRef: { name: AGENT_NAME, key: HTTPS_PROXY_KEY } },
        }
        : { name: "HTTPS_PROXY", value: egress.httpsProxy },
    );
  }
  if (egress?.noProxy) env.push({ name: "NO_PROXY", value: egress.noProxy });
  return env;
}

/** The member's manifests for a hub CA certificate, pinned by its key (for GitOps). */
export async function agentManifestsForCa(
  options: Omit<AgentManifestOptions, "hubCaPin">,
): Promise<Record<string, unknown>[]> {
  return agentManifests({ ...options, hubCaPin: await computeCaPin(options.hubCaPem) });
}
