/** AdmissionReview requests as kube-apiserver sends them for a pod's creation, for webhook tests. */

/** A review of `object` (a pod) being created in "apps"; `overrides` replace request fields. */
export function podReview(
  object: unknown,
  overrides: Record<string, unknown> = {},
  apiVersion = "admission.k8s.io/v1",
) {
  return {
    apiVersion,
    kind: "AdmissionReview",
    request: {
      uid: "uid-1",
      kind: { group: "", version: "v1", kind: "Pod" },
      resource: { group: "", version: "v1", resource: "pods" },
      namespace: "apps",
      operation: "CREATE",
      object,
      ...overrides,
    },
  };
}
