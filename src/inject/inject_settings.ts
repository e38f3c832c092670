/** Sidecar settings: defaults from the injector's flags, overridden per pod by annotations (pure). */
import { MCA_VERSION } from "../version.ts";
import {
  CONFIG_ANNOTATION,
  CPU_LIMIT_ANNOTATION,
  CPU_REQUEST_ANNOTATION,
  DEFAULT_CONFIG_NAME,
  IMAGE_ANNOTATION,
  LOG_LEVEL_ANNOTATION,
  MEMORY_LIMIT_ANNOTATION,
  MEMORY_REQUEST_ANNOTATION,
} from "./names.ts";

/** Injector-wide defaults (flags of `mca inject` and `mca webhook`); all optional. */
export interface InjectOptions {
  image?: string;
  imagePullPolicy?: "Always" | "IfNotPresent" | "Never";
  configName?: string;
  logLevel?: LogLevelName;
  cpuRequest?: string;
  memoryRequest?: string;
  cpuLimit?: string;
  memoryLimit?: string;
}

/** Log levels the proxy understands. */
export type LogLevelName = "debug" | "info" | "warn" | "error";

/** Settings for one pod, all decided. */
export interface SidecarSettings {
  image: string;
  imagePullPolicy: "Always" | "IfNotPresent" | "Never";
  configName: string;
  logLevel: LogLevelName;
  resources: { requests: Record<string, string>; limits: Record<string, string> };
}

/** The image of this mca release. */
export const DEFAULT_IMAGE = `ghcr.io/mca-k8s/mca:v${MCA_VERSION}`;

/** The sidecar's defaults, also named in the help of `mca inject` and `mca webhook` (main.ts). */
export const SIDECAR_DEFAULTS = {
  image: DEFAULT_IMAGE,
  imagePullPolicy: "IfNotPresent",
  configName: DEFAULT_CONFIG_NAME,
  logLevel: "info",
  cpuRequest: "10m",
  memoryRequest: "64Mi",
  memoryLimit: "256Mi",
} as const satisfies InjectOptions;

/** A flag or annotation the sidecar cannot run with; the pod is refused or skipped with it. */
export class InvalidSettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvalidSettingsError";
  }
}

const LOG_LEVELS: LogLevelName[] = ["debug", "info", "warn", "error"];
// Kubernetes resource.Quantity, as accepted in container resources.
const QUANTITY = /^[+]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+|[KMGTPE]i|[mkMGTPE])?$/;
// A DNS-1123 subdomain, as ConfigMap names must be.
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Resolves the settings of one pod; throws a message naming the bad annotation or option. */
export function resolveSidecarSettings(
  options: InjectOptions,
  annotations: Record<string, string> = {},
): SidecarSettings {
  const pick = (annotation: string, fallback: string) => annotations[annotation] ?? fallback;
  const image = pick(IMAGE_ANNOTATION, options.image ?? SIDECAR_DEFAULTS.image).trim();
  if (!image || /\s/.test(image)) {
    throw new InvalidSettingsError(
      `Invalid ${IMAGE_ANNOTATION} "${image}": not an image reference`,
    );
  }
  const configName = pick(CONFIG_ANNOTATION, options.configName ?? SIDECAR_DEFAULTS.configName);
  if (configName.length > 253 || !DNS_SUBDOMAIN.test(configName)) {
    throw new InvalidSettingsError(
      `Invalid ${CONFIG_ANNOTATION} "${configName}": not a valid ConfigMap name`,
    );
  }
  const logLevel = pick(LOG_LEVEL_ANNOTATION, options.logLevel ?? SIDECAR_DEFAULTS.logLevel);
  if (!LOG_LEVELS.includes(logLevel as LogLevelName)) {
    throw new InvalidSettingsError(
      `Invalid ${LOG_LEVEL_ANNOTATION} "${logLevel}": use one of ${LOG_LEVELS.join(", ")}`,
    );
  }
  const quantity = (annotation: string, fallback: string | undefined) => {
    const value = annotations[annotation] ?? fallback;
    if (value !== undefined && !QUANTITY.test(value)) {
      throw new InvalidSettingsError(
        `Invalid ${annotation} "${value}": not a Kubernetes quantity such as "100m" or "64Mi"`,
      );
    }
    return value;
  };
  const requests = compact({
    cpu: quantity(CPU_REQUEST_ANNOTATION, options.cpuRequest ?? SIDECAR_DEFAULTS.cpuRequest),
    memory: quantity(
      MEMORY_REQUEST_ANNOTATION,
      options.memoryRequest ?? SIDECAR_DEFAULTS.memoryRequest,
    ),
  });
  const limits = compact({
    cpu: quantity(CPU_LIMIT_ANNOTATION, options.cpuLimit),
    memory: quantity(MEMORY_LIMIT_ANNOTATION, options.memoryLimit ?? SIDECAR_DEFAULTS.memoryLimit),
  });
  return {
    image,
    imagePullPolicy: options.imagePullPolicy ?? SIDECAR_DEFAULTS.imagePullPolicy,
    configName,
    logLevel: logLevel as LogLevelName,
    resources: { requests, limits },
  };
}

function compact(values: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Record<
    string,
    string
  >;
}
