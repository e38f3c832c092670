/** All checks over the gathered facts, in report order (pure). */
import type { CheckFacts } from "./check_facts.ts";
import type { CheckResult } from "./check_result.ts";
import { evaluateAccess } from "./evaluate_access.ts";
import { evaluateCertificates } from "./evaluate_certificates.ts";
import { evaluateClusters } from "./evaluate_clusters.ts";
import { evaluateHub } from "./evaluate_hub.ts";
import { evaluateWebhook } from "./evaluate_webhook.ts";

/** Judges the facts; `hubNamed` says the user named the hub (--hub), so it must be there. */
export function evaluateChecks(facts: CheckFacts, hubNamed = false): CheckResult[] {
  const api: CheckResult = "version" in facts.api
    ? {
      section: "kubernetes-api",
      title: "the API server is reachable",
      status: "ok",
      detail: `${facts.api.server} (${facts.api.version}), ${facts.api.source}`,
    }
    : {
      section: "kubernetes-api",
      title: "the API server is reachable",
      status: "fail",
      detail: `${facts.api.server}, ${facts.api.source}: ${facts.api.error}`,
      hint: "Check --kubeconfig and --context (kubectl --context <name> version should work)",
    };
  if (api.status === "fail") {
    return [api, {
      section: "kubernetes-api",
      title: "the other checks",
      status: "skip",
      detail: "they all ask the API server",
    }];
  }
  return [
    api,
    ...(facts.webhook ? evaluateWebhook(facts.webhook, facts.namespace) : []),
    ...(facts.hub ? evaluateHub(facts.hub, facts.namespace, hubNamed) : []),
    ...(facts.clusters ? evaluateClusters(facts.clusters, facts.now) : []),
    ...evaluateCertificates(facts),
    ...(facts.access ? evaluateAccess(facts.access) : []),
  ];
}
