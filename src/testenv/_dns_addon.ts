/**
 * The cluster DNS addon of a test cluster with a node: CoreDNS as a kube-system Deployment from
 * the locally built image, behind the `kube-dns` Service at the address the kubelet gives pods.
 * It answers for cluster.local only and forwards nothing, so no pod ever queries the
 * machine's resolver (names outside the cluster fail).
 */
import type { KubeClient } from "../kube/mod.ts";

/** The Corefile: Services and pods of this cluster, nothing else. */
export const COREFILE = `.:53 {
    errors
    health :8080
    ready :8181
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 30
    }
    cache 30
    loadbalance
}
`;

/** The addon's objects (pure): where to create each, and the object. */
export function dnsAddonObjects(
  options: { image: string; serviceIp: string },
): Array<[string, unknown]> {
  const labels = { "k8s-app": "kube-dns" };
  const namespace = "/api/v1/namespaces/kube-system";
  return [
    [`${namespace}/serviceaccounts`, {
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name: "coredns", namespace: "kube-system" },
    }],
    ["/apis/rbac.authorization.k8s.io/v1/clusterroles", {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: "system:coredns" },
      rules: [
        {
          apiGroups: [""],
          resources: ["endpoints", "services", "pods", "namespaces"],
          verbs: ["list", "watch"],
        },
        {
          apiGroups: ["discovery.k8s.io"],
          resources: ["endpointslices"],
          verbs: ["list", "watch"],
        },
      ],
    }],
    ["/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: "system:coredns" },
      roleRef: {
        apiGroup: "rbac.authorization.k8s.io",
        kind: "ClusterRole",
        name: "system:coredns",
      },
      subjects: [{ kind: "ServiceAccount", name: "coredns", namespace: "kube-system" }],
    }],
    [`${namespace}/configmaps`, {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "coredns", namespace: "kube-system" },
      data: { Corefile: COREFILE },
    }],
    [`${namespace}/services`, {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "kube-dns", namespace: "kube-system", labels },
      spec: {
        clusterIP: options.serviceIp,
        selector: labels,
        ports: [
          { name: "dns", port: 53, protocol: "UDP", targetPort: 53 },
          { name: "dns-tcp", port: 53, protocol: "TCP", targetPort: 53 },
        ],
      },
    }],
    ["/apis/apps/v1/namespaces/kube-system/deployments", {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "coredns", namespace: "kube-system", labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: "coredns",
            priorityClassName: "system-cluster-critical",
            dnsPolicy: "Default",
            containers: [{
              name: "coredns",
              image: options.image,
              imagePullPolicy: "Never",
              args: ["-conf", "/etc/coredns/Corefile"],
              ports: [
                { name: "dns", containerPort: 53, protocol: "UDP" },
                { name: "dns-tcp", containerPort: 53, protocol: "TCP" },
              ],
              readinessProbe: { httpGet: { path: "/ready", port: 8181 }, periodSeconds: 2 },
              livenessProbe: { httpGet: { path: "/health", port: 8080 }, periodSeconds: 10 },
              resources: { requests: { cpu: "10m", memory: "20Mi" }, limits: { memory: "100Mi" } },
              // Port 53 without root: containerd sets ip_unprivileged_port_start=0 in pods.
              securityContext: {
                runAsNonRoot: true,
                readOnlyRootFilesystem: true,
                allowPrivilegeEscalation: false,
                capabilities: { drop: ["ALL"] },
              },
              volumeMounts: [{ name: "config", mountPath: "/etc/coredns", readOnly: true }],
            }],
            volumes: [{ name: "config", configMap: { name: "coredns" } }],
          },
        },
      },
    }],
  ];
}

/** Creates the addon's objects (those that exist already are kept). */
export async function installDnsAddon(
  client: KubeClient,
  options: { image: string; serviceIp: string },
): Promise<void> {
  for (const [path, object] of dnsAddonObjects(options)) {
    const response = await client.request(path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(object),
    });
    const text = await response.text();
    if (!response.ok && response.status !== 409) {
      throw new Error(
        `Cannot create the DNS addon's object at "${path}": ${response.status} ${text}`,
      );
    }
  }
}
