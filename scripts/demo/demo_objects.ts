/** The objects the demo creates: the app's namespace, identity, rights, routes and pod. Pure. */

/** Namespace and ServiceAccount of the sample app on the host. */
export const APP_NAMESPACE = "shop";
export const APP_SERVICE_ACCOUNT = "inventory";
/** The app's user on the host. */
export const APP_USER = `system:serviceaccount:${APP_NAMESPACE}:${APP_SERVICE_ACCOUNT}`;
/** The user the hub's agents impersonate on the members for the app's requests (prefixed by default). */
export const MEMBER_APP_USER = `mca:host:${APP_USER}`;

/** Where the demo expects each ConfigMap of the sample app, and why. */
export const EXPECTED_PLACEMENT: { name: string; cluster: string; why: string }[] = [
  { name: "order-1001", cluster: "east", why: "label region=east, route east-by-label" },
  { name: "order-1002", cluster: "west", why: "label region=west, route west-by-label" },
  { name: "order-1003", cluster: "host", why: "no region label: the default, the home cluster" },
];

/** The sidecar's routing config: writes by region label, ConfigMap reads merged from all three. */
export function proxyConfigYaml(hubUrl: string): string {
  return `# The sample app's routes (mca proxy config), mounted from the ConfigMap mca-proxy.
home: host
clusters:
  host: { inCluster: true }
  east: { via: hub, hub: ${hubUrl}, cluster: east, caFile: hub-ca.crt }
  west: { via: hub, hub: ${hubUrl}, cluster: west, caFile: hub-ca.crt }
routes:
  - name: configmaps-everywhere # LIST and WATCH of ConfigMaps see all three clusters
    match: { resources: [configmaps], verbs: [list, watch] }
    clusters: [host, east, west]
  - name: east-by-label
    match: { labels: "region=east" }
    cluster: east
  - name: west-by-label
    match: { labels: "region=west" }
    cluster: west
default: host
`;
}

/** Host objects: the app's namespace, ServiceAccount, rights at home and on clusters/proxy. */
export function hostAppObjects(hubUrl: string, hubCaPem: string): Record<string, unknown>[] {
  const subject = { kind: "ServiceAccount", name: APP_SERVICE_ACCOUNT, namespace: APP_NAMESPACE };
  return [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: APP_NAMESPACE } },
    {
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name: APP_SERVICE_ACCOUNT, namespace: APP_NAMESPACE },
    },
    ...configMapEditor(APP_NAMESPACE, subject),
    {
      // The hub lets the app reach east and west: SubjectAccessReview on clusters/proxy.
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: "inventory-reaches-members" },
      rules: [{
        apiGroups: ["mca.k8s.io"],
        resources: ["clusters/proxy"],
        resourceNames: ["east", "west"],
        verbs: ["get", "create", "update", "patch", "delete"],
      }],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: "inventory-reaches-members" },
      roleRef: {
        apiGroup: "rbac.authorization.k8s.io",
        kind: "ClusterRole",
        name: "inventory-reaches-members",
      },
      subjects: [subject],
    },
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "mca-proxy", namespace: APP_NAMESPACE },
      data: { "config.yaml": proxyConfigYaml(hubUrl), "hub-ca.crt": hubCaPem },
    },
  ];
}

/** Member objects: the same namespace, and ConfigMap rights for the app's impersonated identity. */
export function memberAppObjects(): Record<string, unknown>[] {
  return [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: APP_NAMESPACE } },
    ...configMapEditor(APP_NAMESPACE, {
      apiGroup: "rbac.authorization.k8s.io",
      kind: "User",
      name: MEMBER_APP_USER,
    }),
  ];
}

/** The app's pod, opted in to injection; the webhook adds the sidecar when it is created. */
export function appPod(name: string, image: string): Record<string, unknown> {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: APP_NAMESPACE,
      labels: { app: "inventory", "mca.k8s.io/inject": "true" },
      // The sidecar logs each routing decision at debug level: the demo tells the story from it.
      annotations: { "mca.k8s.io/log-level": "debug" },
    },
    spec: {
      serviceAccountName: APP_SERVICE_ACCOUNT,
      restartPolicy: "Never",
      containers: [{
        name: "app",
        image,
        // The image was built on this machine and imported into each node; there is no registry.
        imagePullPolicy: "Never",
        // After its story the app keeps running and reports changes, so there is a pod to explore.
        env: [{ name: "INVENTORY_WATCH", value: "true" }],
      }],
    },
  };
}

function configMapEditor(namespace: string, subject: Record<string, string>) {
  return [
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: "configmap-editor", namespace },
      rules: [{
        apiGroups: [""],
        resources: ["configmaps"],
        verbs: ["get", "list", "watch", "create", "update", "patch", "delete"],
      }],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: "inventory-configmaps", namespace },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "configmap-editor" },
      subjects: [subject],
    },
  ];
}
