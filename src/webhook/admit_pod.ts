/** The webhook's decision for one admission request (pure): inject, leave alone, or refuse. */
import {
  diffJson,
  INJECT_LABEL,
  type InjectOptions,
  injectPodTemplate,
  type PodTemplate,
} from "../inject/mod.ts";
import type { AdmissionRequest, AdmissionResponse } from "./admission_review.ts";

/** How the pod reached the webhook: by its own label, or because its namespace opted in. */
export type OptIn = "pod-label" | "namespace";

/** The decision, with what to count in metrics. */
export interface AdmissionDecision {
  response: AdmissionResponse;
  outcome: "injected" | "updated" | "skipped" | "refused" | "ignored";
  reason?: string;
}

/**
 * Pods opted in (by the pod label, or by namespace when `optIn` says the configuration matched
 * the namespace) are injected; an opted-in pod that cannot work is refused with the reason;
 * everything else is allowed unchanged.
 */
export function admitPod(
  request: AdmissionRequest,
  optIn: OptIn,
  options: InjectOptions,
): AdmissionDecision {
  const allow = (outcome: AdmissionDecision["outcome"], reason?: string): AdmissionDecision => ({
    response: { uid: request.uid, allowed: true },
    outcome,
    ...(reason ? { reason } : {}),
  });
  const isPodCreate = request.kind.kind === "Pod" && request.resource.resource === "pods" &&
    !request.subResource && request.operation === "CREATE";
  if (!isPodCreate) return allow("ignored", "not a pod creation");
  const pod = request.object as PodTemplate | undefined;
  if (typeof pod !== "object" || pod === null || !Array.isArray(pod.spec?.containers)) {
    return {
      response: {
        uid: request.uid,
        allowed: false,
        status: { code: 400, message: "The request carries no pod" },
      },
      outcome: "refused",
      reason: "no-pod",
    };
  }
  const label = pod.metadata?.labels?.[INJECT_LABEL];
  const optedIn = label === "true" || (optIn === "namespace" && label !== "false");
  if (!optedIn) return allow("ignored", "not opted in");
  const result = injectPodTemplate(pod, options);
  if (!result.injected) {
    if (result.reason === "opted-out") return allow("skipped", result.reason);
    const name = pod.metadata?.name ?? pod.metadata?.generateName ?? "";
    return {
      response: {
        uid: request.uid,
        allowed: false,
        status: {
          code: 400,
          reason: "BadRequest",
          message: `mca cannot inject its sidecar into pod "${name}": ${result.message}`,
        },
      },
      outcome: "refused",
      reason: result.reason,
    };
  }
  return {
    response: { uid: request.uid, allowed: true, patch: diffJson(pod, result.template) },
    outcome: result.updated ? "updated" : "injected",
  };
}
