/** The MutatingWebhookConfiguration mca ships and registers (pure). */
import { INJECT_LABEL } from "../inject/mod.ts";

/** Namespaces never injected, besides mca's own. */
export const SYSTEM_NAMESPACES = ["kube-system", "kube-public", "kube-node-lease"];
/** Label on a namespace that opts all its pods in. */
export const NAMESPACE_OPT_IN_VALUE = "enabled";
/** Marks configurations the webhook created itself and may therefore rewrite completely. */
export const MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
export const MANAGED_BY_VALUE = "mca-webhook";

/** How the API server reaches the webhook: a Service in cluster, or a URL in development. */
export type WebhookEndpoint =
  | { service: { namespace: string; name: string; port: number } }
  | { url: string };

/** Inputs of the configuration. */
export interface WebhookConfigurationSpec {
  name: string;
  /** mca's own namespace, never injected. */
  namespace: string;
  endpoint: WebhookEndpoint;
  caBundlePem: string;
  failurePolicy: "Fail" | "Ignore";
}

/**
 * Two webhooks on pod CREATE: one for pods labelled `mca.k8s.io/inject: "true"`, one for the
 * other pods of namespaces labelled `mca.k8s.io/inject: enabled` (a label selector cannot say
 * "this or that", and the split also tells the handler why the pod came).
 */
export function webhookConfiguration(spec: WebhookConfigurationSpec): Record<string, unknown> {
  const excluded = {
    key: "kubernetes.io/metadata.name",
    operator: "NotIn",
    values: [...SYSTEM_NAMESPACES, spec.namespace],
  };
  const common = (path: string) => ({
    admissionReviewVersions: ["v1", "v1beta1"],
    clientConfig: {
      ...("url" in spec.endpoint
        ? { url: spec.endpoint.url.replace(/\/+$/, "") + path }
        : { service: { ...spec.endpoint.service, path } }),
      caBundle: btoa(spec.caBundlePem),
    },
    rules: [{
      operations: ["CREATE"],
      apiGroups: [""],
      apiVersions: ["v1"],
      resources: ["pods"],
      scope: "Namespaced",
    }],
    failurePolicy: spec.failurePolicy,
    matchPolicy: "Equivalent",
    sideEffects: "None",
    timeoutSeconds: 10,
    reinvocationPolicy: "IfNeeded",
  });
  return {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "MutatingWebhookConfiguration",
    metadata: { name: spec.name, labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE } },
    webhooks: [
      {
        name: "pods.mca.k8s.io",
        ...common("/mutate"),
        namespaceSelector: { matchExpressions: [excluded] },
        objectSelector: { matchLabels: { [INJECT_LABEL]: "true" } },
      },
      {
        name: "namespaces.mca.k8s.io",
        ...common("/mutate-namespace"),
        namespaceSelector: {
          matchLabels: { [INJECT_LABEL]: NAMESPACE_OPT_IN_VALUE },
          matchExpressions: [excluded],
        },
        // Labelled pods are the first webhook's; "false" opts out.
        objectSelector: {
          matchExpressions: [{ key: INJECT_LABEL, operator: "NotIn", values: ["true", "false"] }],
        },
      },
    ],
  };
}
