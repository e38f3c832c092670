/** Injecting the sidecar into one pod or pod template (pure, idempotent). */
import { MCA_VERSION } from "../version.ts";
import {
  type InjectOptions,
  InvalidSettingsError,
  resolveSidecarSettings,
} from "./inject_settings.ts";
import type { Container, EnvVar, PodTemplate, Volume, VolumeMount } from "./kube_types.ts";
import {
  ALLOW_NO_AUTOMOUNT_ANNOTATION,
  APP_CREDENTIALS_VOLUME,
  INJECT_LABEL,
  PROXY_HOST,
  PROXY_PORT,
  SERVICE_ACCOUNT_PATH,
  SIDECAR_NAME,
  STATUS_ANNOTATION,
} from "./names.ts";
import { sidecarContainer, sidecarVolumes } from "./sidecar.ts";

/** Why a pod was not injected. */
export type SkipReason = "opted-out" | "host-network" | "no-automount" | "invalid-settings";

/** The outcome for one pod: the new template, or the unchanged one and why. */
export type InjectResult =
  | { injected: true; template: PodTemplate; updated: boolean }
  | { injected: false; template: PodTemplate; reason: SkipReason; message: string };

/** The value of the status annotation this version writes. */
export function statusAnnotationValue(): string {
  return JSON.stringify({ version: MCA_VERSION, sidecar: SIDECAR_NAME });
}

/** True if the template already carries the sidecar (by the status annotation). */
export function isInjected(template: PodTemplate): boolean {
  return template.metadata?.annotations?.[STATUS_ANNOTATION] !== undefined;
}

/** Decides whether the pod can be injected; undefined means yes. */
export function skipReason(
  template: PodTemplate,
): { reason: SkipReason; message: string } | undefined {
  const annotations = template.metadata?.annotations ?? {};
  const labels = template.metadata?.labels ?? {};
  if (annotations[INJECT_LABEL] === "false" || labels[INJECT_LABEL] === "false") {
    return { reason: "opted-out", message: `the pod opts out with ${INJECT_LABEL}: "false"` };
  }
  if (template.spec.hostNetwork === true) {
    return {
      reason: "host-network",
      message:
        `hostNetwork pods share the node's network: the proxy's port ${PROXY_PORT} would clash`,
    };
  }
  if (
    template.spec.automountServiceAccountToken === false &&
    annotations[ALLOW_NO_AUTOMOUNT_ANNOTATION] !== "true"
  ) {
    return {
      reason: "no-automount",
      message:
        `automountServiceAccountToken is false; set the annotation ${ALLOW_NO_AUTOMOUNT_ANNOTATION}: "true" to inject anyway`,
    };
  }
  return undefined;
}

/**
 * Injects (or updates in place) the sidecar. Every step replaces by name or path, so injecting
 * an injected pod yields the same pod, and a changed sidecar spec replaces the old one.
 */
export function injectPodTemplate(
  template: PodTemplate,
  options: InjectOptions = {},
): InjectResult {
  const skip = skipReason(template);
  if (skip) return { injected: false, template, ...skip };
  let settings;
  try {
    settings = resolveSidecarSettings(options, template.metadata?.annotations ?? {});
  } catch (error) {
    // Only a bad flag or annotation skips the pod; anything else is a fault, not a decision.
    if (!(error instanceof InvalidSettingsError)) throw error;
    return {
      injected: false,
      template,
      reason: "invalid-settings",
      message: error.message,
    };
  }
  const spec = template.spec;
  const appInit = (spec.initContainers ?? []).filter((c) => c.name !== SIDECAR_NAME).map(
    pointAtProxy,
  );
  const volumes = upsertVolumes(spec.volumes ?? [], sidecarVolumes(settings));
  const containers = spec.containers.map(pointAtProxy);
  const next: PodTemplate = {
    ...template,
    metadata: {
      ...template.metadata,
      annotations: {
        ...template.metadata?.annotations,
        [STATUS_ANNOTATION]: statusAnnotationValue(),
      },
    },
    spec: {
      ...spec,
      initContainers: [sidecarContainer(settings), ...appInit],
      containers,
      volumes: dropUnmountedServiceAccountVolumes(volumes, [...appInit, ...containers]),
    },
  };
  return { injected: true, template: next, updated: isInjected(template) };
}

const PROXY_ENV: EnvVar[] = [
  { name: "KUBERNETES_SERVICE_HOST", value: PROXY_HOST },
  { name: "KUBERNETES_SERVICE_PORT", value: String(PROXY_PORT) },
  { name: "KUBERNETES_SERVICE_PORT_HTTPS", value: String(PROXY_PORT) },
];

/** Points an app container at the proxy: its API server env and the credentials mount. */
function pointAtProxy(container: Container): Container {
  let env = container.env ?? [];
  for (const variable of PROXY_ENV) env = upsertBy(env, (e) => e.name === variable.name, variable);
  const mount: VolumeMount = {
    name: APP_CREDENTIALS_VOLUME,
    mountPath: SERVICE_ACCOUNT_PATH,
    readOnly: true,
  };
  const mounts = upsertBy(
    container.volumeMounts ?? [],
    (m) => normalizePath(m.mountPath) === SERVICE_ACCOUNT_PATH,
    mount,
  );
  return { ...container, env, volumeMounts: mounts };
}

function upsertVolumes(volumes: Volume[], wanted: Volume[]): Volume[] {
  let result = volumes;
  for (const volume of wanted) result = upsertBy(result, (v) => v.name === volume.name, volume);
  return result;
}

/**
 * Replaces the first item that matches (keeping its position), drops further matches, or
 * appends when none matches: "replaced, not duplicated".
 */
function upsertBy<T>(items: T[], matches: (item: T) => boolean, replacement: T): T[] {
  const first = items.findIndex(matches);
  if (first < 0) return [...items, replacement];
  return items.flatMap((item, index) =>
    index === first ? [replacement] : matches(item) ? [] : [item]
  );
}

/**
 * The ServiceAccount admission plugin runs before webhooks and adds a `kube-api-access-*`
 * volume; once the apps mount the proxy's credentials instead, that volume is unused.
 */
function dropUnmountedServiceAccountVolumes(volumes: Volume[], containers: Container[]): Volume[] {
  const mounted = new Set(containers.flatMap((c) => (c.volumeMounts ?? []).map((m) => m.name)));
  return volumes.filter((v) => !v.name.startsWith("kube-api-access-") || mounted.has(v.name));
}

function normalizePath(path: string): string {
  return path.replace(/\/+$/, "");
}
