/** Finding pod templates in Kubernetes objects and injecting each of them (pure). */
import type { InjectOptions } from "./inject_settings.ts";
import { injectPodTemplate, type SkipReason } from "./inject_pod.ts";
import type { PodTemplate } from "./kube_types.ts";

/** Where the pod template sits in each kind that has one. */
const TEMPLATE_PATHS: Record<string, string[]> = {
  Pod: [],
  PodTemplate: ["template"],
  Deployment: ["spec", "template"],
  StatefulSet: ["spec", "template"],
  DaemonSet: ["spec", "template"],
  ReplicaSet: ["spec", "template"],
  ReplicationController: ["spec", "template"],
  Job: ["spec", "template"],
  CronJob: ["spec", "jobTemplate", "spec", "template"],
};

/** What happened to one object. */
export interface InjectReport {
  kind: string;
  name: string;
  namespace?: string;
  /** Position inside a List, when the object is an item of one. */
  path: string;
  outcome: "injected" | "updated" | "skipped";
  reason?: SkipReason;
  message?: string;
}

/** True for objects mca knows how to inject, including Lists. */
export function isKubernetesObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    typeof (value as Record<string, unknown>).kind === "string" &&
    typeof (value as Record<string, unknown>).apiVersion === "string";
}

/** Injects every pod template in the object (recursing into Lists); other objects come back unchanged. */
export function injectObject(
  object: Record<string, unknown>,
  options: InjectOptions = {},
  path = "",
): { object: Record<string, unknown>; reports: InjectReport[] } {
  const kind = String(object.kind);
  if (kind.endsWith("List") && Array.isArray(object.items)) {
    const reports: InjectReport[] = [];
    const items = object.items.map((item, index) => {
      if (!isKubernetesObject(item)) return item;
      const result = injectObject(item, options, `${path}items[${index}]`);
      reports.push(...result.reports);
      return result.object;
    });
    return { object: { ...object, items }, reports };
  }
  const templatePath = TEMPLATE_PATHS[kind];
  const template = templatePath && getPath(object, templatePath);
  if (!templatePath || !isPodTemplate(template)) return { object, reports: [] };
  const metadata = (object.metadata ?? {}) as {
    name?: string;
    generateName?: string;
    namespace?: string;
  };
  const base = {
    kind,
    name: metadata.name ?? metadata.generateName ?? "(unnamed)",
    ...(metadata.namespace ? { namespace: metadata.namespace } : {}),
    path,
  };
  const result = injectPodTemplate(template, options);
  if (!result.injected) {
    return {
      object,
      reports: [{ ...base, outcome: "skipped", reason: result.reason, message: result.message }],
    };
  }
  return {
    object: setPath(object, templatePath, result.template),
    reports: [{ ...base, outcome: result.updated ? "updated" : "injected" }],
  };
}

function isPodTemplate(value: unknown): value is PodTemplate {
  const spec = (value as { spec?: { containers?: unknown } } | undefined)?.spec;
  return typeof value === "object" && value !== null && Array.isArray(spec?.containers);
}

function getPath(object: unknown, path: string[]): unknown {
  return path.reduce<unknown>(
    (node, key) => (node as Record<string, unknown> | undefined)?.[key],
    object,
  );
}

function setPath(
  object: Record<string, unknown>,
  path: string[],
  value: unknown,
): Record<string, unknown> {
  if (path.length === 0) return value as Record<string, unknown>;
  const [head, ...rest] = path as [string, ...string[]];
  return {
    ...object,
    [head]: setPath((object[head] ?? {}) as Record<string, unknown>, rest, value),
  };
}
