/** The sidecar container and the volumes it needs (pure). */
import type { SidecarSettings } from "./inject_settings.ts";
import type { Container, Volume } from "./kube_types.ts";
import {
  APP_CREDENTIALS_PATH,
  APP_CREDENTIALS_VOLUME,
  CONFIG_FILE,
  CONFIG_PATH,
  CONFIG_VOLUME,
  HEALTH_PORT,
  POD_CREDENTIALS_PATH,
  POD_CREDENTIALS_VOLUME,
  PROXY_HOST,
  PROXY_PORT,
  SIDECAR_NAME,
  STATE_PATH,
  STATE_VOLUME,
} from "./names.ts";

/** V8 settings of the sidecar; `mca proxy` benchmarks run with the same. */
export const SIDECAR_V8_FLAGS = "--max-semi-space-size=4";

/** How long the proxy may take to start before the kubelet restarts its container. */
const STARTUP_TIMEOUT_SECONDS = 120;

/** The distroless image's non-root user. */
const NONROOT_UID = 65532;

/** Where the mca image has `mca` (its entrypoint): the postStart hook runs it. */
export const MCA_BINARY = "/usr/local/bin/mca";

/**
 * The proxy as a native sidecar (KEP-753): an init container with restartPolicy Always whose
 * postStart hook holds back the app containers until it listens and has written their
 * credentials. The kubelet starts the next containers only once the hook has returned, at once;
 * a startup probe would be seen a second or two later (it runs on a period, and only after the
 * kubelet's next look at the container), which was most of the time an injected pod took
 * longer to start (docs/benchmarks.md).
 */
export function sidecarContainer(settings: SidecarSettings): Container {
  const probe = (path: string) => ({ httpGet: { path, port: HEALTH_PORT, scheme: "HTTP" } });
  return {
    name: SIDECAR_NAME,
    image: settings.image,
    imagePullPolicy: settings.imagePullPolicy,
    args: [
      "proxy",
      `--listen=${PROXY_HOST}:${PROXY_PORT}`,
      `--health-listen=0.0.0.0:${HEALTH_PORT}`,
      `--config=${CONFIG_PATH}/${CONFIG_FILE}`,
      `--app-credentials-dir=${APP_CREDENTIALS_PATH}`,
      `--service-account-dir=${POD_CREDENTIALS_PATH}`,
      `--state-dir=${STATE_PATH}`,
      `--log-level=${settings.logLevel}`,
    ],
    restartPolicy: "Always",
    ports: [{ name: "mca-health", containerPort: HEALTH_PORT, protocol: "TCP" }],
    env: [
      // A small young generation keeps the proxy's memory flat under load (docs/benchmarks.md).
      { name: "DENO_V8_FLAGS", value: SIDECAR_V8_FLAGS },
      {
        name: "MCA_POD_NAME",
        valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "metadata.name" } },
      },
      {
        name: "MCA_POD_NAMESPACE",
        valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "metadata.namespace" } },
      },
    ],
    resources: settings.resources,
    lifecycle: {
      postStart: {
        exec: {
          command: [
            MCA_BINARY,
            "proxy",
            "wait",
            `--health-url=http://127.0.0.1:${HEALTH_PORT}/readyz`,
            `--timeout=${STARTUP_TIMEOUT_SECONDS}s`,
          ],
        },
      },
    },
    readinessProbe: {
      ...probe("/readyz"),
      periodSeconds: 5,
      timeoutSeconds: 1,
      failureThreshold: 3,
    },
    livenessProbe: {
      ...probe("/healthz"),
      periodSeconds: 10,
      timeoutSeconds: 2,
      failureThreshold: 3,
    },
    securityContext: {
      runAsNonRoot: true,
      runAsUser: NONROOT_UID,
      runAsGroup: NONROOT_UID,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
    },
    volumeMounts: [
      { name: APP_CREDENTIALS_VOLUME, mountPath: APP_CREDENTIALS_PATH },
      { name: POD_CREDENTIALS_VOLUME, mountPath: POD_CREDENTIALS_PATH, readOnly: true },
      { name: STATE_VOLUME, mountPath: STATE_PATH },
      { name: CONFIG_VOLUME, mountPath: CONFIG_PATH, readOnly: true },
    ],
  };
}

/** The pod volumes of the injection. */
export function sidecarVolumes(settings: SidecarSettings): Volume[] {
  return [
    // Written by the proxy, read by the apps: the proxy's CA, the pod's namespace and a per-pod token.
    { name: APP_CREDENTIALS_VOLUME, emptyDir: { medium: "Memory", sizeLimit: "1Mi" } },
    // The proxy's own state (the CA's private key among it): mounted into the sidecar only.
    { name: STATE_VOLUME, emptyDir: { medium: "Memory", sizeLimit: "1Mi" } },
    // The pod's real credentials, projected explicitly so they never depend on the
    // ServiceAccount admission plugin (which skips containers that mount over its path).
    {
      name: POD_CREDENTIALS_VOLUME,
      projected: {
        defaultMode: 0o444,
        sources: [
          { serviceAccountToken: { path: "token", expirationSeconds: 3607 } },
          { configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "ca.crt" }] } },
          {
            downwardAPI: {
              items: [{
                path: "namespace",
                fieldRef: { apiVersion: "v1", fieldPath: "metadata.namespace" },
              }],
            },
          },
        ],
      },
    },
    // Optional: without the ConfigMap the proxy sends everything to the home cluster.
    { name: CONFIG_VOLUME, configMap: { name: settings.configName, optional: true } },
  ];
}
