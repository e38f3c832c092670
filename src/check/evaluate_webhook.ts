/** The webhook's checks: its configuration, its caBundle, the certificate it serves, its answers (pure). */
import type { EndpointProbe, WebhookFacts, WebhookTarget } from "./check_facts.ts";
import { type CheckResult, readinessVerdict, servedCertificateVerdict } from "./check_result.ts";

const SECTION = "webhook";

/** Judges the webhook's facts; one skip line when no webhook is installed. */
export function evaluateWebhook(webhook: WebhookFacts, namespace: string): CheckResult[] {
  const { configuration, ca } = webhook;
  const secret = `Secret "${namespace}/${webhook.caSecretName}"`;
  const exists = `MutatingWebhookConfiguration "${webhook.configurationName}" exists`;
  if (!configuration.ok) {
    if (configuration.reason === "not-found" && !ca.ok && ca.reason === "not-found") {
      return [{
        section: SECTION,
        title: "the webhook is installed",
        status: "skip",
        detail: `no MutatingWebhookConfiguration "${webhook.configurationName}" and no ${secret}`,
      }];
    }
    return [
      configuration.reason === "not-found"
        ? {
          section: SECTION,
          title: exists,
          status: "fail",
          detail: `not found, although ${secret} exists`,
          hint: "The webhook creates its configuration when it starts: check that it runs " +
            `(kubectl -n ${namespace} get pods), or pass --webhook-configuration with the name you installed`,
        }
        : { section: SECTION, title: exists, status: "skip", detail: configuration.message },
    ];
  }
  const targets = configuration.value.webhooks.map((w) => describeTarget(w.target));
  return [
    {
      section: SECTION,
      title: exists,
      status: "ok",
      detail: `${configuration.value.webhooks.length} webhook(s), calling ${
        [...new Set(targets)].join(", ")
      }`,
    },
    caBundleHoldsCa(webhook, secret),
    servedCertificate(webhook.served),
    readiness(webhook.served, namespace),
    admission(webhook, namespace),
  ];
}

function caBundleHoldsCa(webhook: WebhookFacts, secret: string): CheckResult {
  const title = `the caBundle holds the CA in ${secret}`;
  if (!webhook.ca.ok) {
    return webhook.ca.reason === "not-found"
      ? {
        section: SECTION,
        title,
        status: "fail",
        detail: `${secret} not found`,
        hint: "The webhook creates its CA Secret when it starts: check that it runs and may " +
          "write Secrets in its namespace, or pass --webhook-ca-secret",
      }
      : { section: SECTION, title, status: "skip", detail: webhook.ca.message };
  }
  const ca = normalizePem(webhook.ca.value.pem);
  const configuration = webhook.configuration.ok ? webhook.configuration.value.webhooks : [];
  const wrong = configuration.filter((w) => !w.caBundle.map(normalizePem).includes(ca));
  if (wrong.length === 0) return { section: SECTION, title, status: "ok" };
  return {
    section: SECTION,
    title,
    status: "fail",
    detail: `the caBundle of ${wrong.map((w) => `"${w.name}"`).join(", ")} ${
      wrong.every((w) => w.caBundle.length === 0) ? "is empty" : "does not hold that CA"
    }: the API server will not trust the webhook`,
    hint: `A running webhook repairs the caBundle of "${webhook.configurationName}" at once: ` +
      "start it (or restart it), and make sure nothing else (a Helm upgrade, GitOps) keeps " +
      "writing another caBundle",
  };
}

function servedCertificate(served: EndpointProbe | undefined): CheckResult {
  const title = "the caBundle verifies the certificate the webhook serves";
  if (!served) return { section: SECTION, title, status: "skip", detail: "no endpoint to dial" };
  if (!served.reached) return unreachable(title, served);
  return servedCertificateVerdict(SECTION, title, served, {
    checkedWith: " with the caBundle",
    hint: "The API server checks the webhook with this caBundle and refuses the call: let the " +
      "webhook repair it (restart it), or find what keeps writing a stale caBundle",
  });
}

function readiness(served: EndpointProbe | undefined, namespace: string): CheckResult {
  const title = "the webhook is ready";
  if (!served) return { section: SECTION, title, status: "skip", detail: "no endpoint to dial" };
  if (!served.reached) return unreachable(title, served);
  return readinessVerdict(
    SECTION,
    title,
    served,
    `Read the webhook's log (kubectl -n ${namespace} logs deploy/mca-webhook)`,
  );
}

function admission(webhook: WebhookFacts, namespace: string): CheckResult {
  const title = "the API server calls the webhook";
  const probe = webhook.admission;
  if (!probe) return { section: SECTION, title, status: "skip", detail: "no configuration" };
  if (!probe.ran) {
    return probe.reason === "cannot-run"
      ? {
        section: SECTION,
        title,
        status: "skip",
        detail: `cannot try a dry-run pod in "${probe.namespace}": ${probe.message}`,
      }
      : {
        section: SECTION,
        title,
        status: "fail",
        detail: `a dry-run pod in "${probe.namespace}" was refused: ${probe.message}`,
        hint: "The API server could not call the webhook: check the caBundle and that the " +
          `webhook's Service has ready endpoints (kubectl -n ${namespace} get endpointslices)`,
      };
  }
  if (probe.injected) {
    return {
      section: SECTION,
      title,
      status: "ok",
      detail: `a dry-run opted-in pod in "${probe.namespace}" came back with the sidecar`,
    };
  }
  return {
    section: SECTION,
    title,
    status: "fail",
    detail: `a dry-run opted-in pod in "${probe.namespace}" came back without the sidecar`,
    hint: "With failurePolicy Ignore the API server admits pods when it cannot call the " +
      "webhook: read the API server's and the webhook's logs",
  };
}

function unreachable(title: string, served: Extract<EndpointProbe, { reached: false }>) {
  return {
    section: SECTION,
    title,
    status: "skip",
    detail: `cannot dial ${served.address ?? "the webhook"} from here (${served.reason}); ` +
      "the API server's call below tells whether it can",
  } satisfies CheckResult;
}

function describeTarget(target: WebhookTarget | undefined): string {
  if (!target) return "nothing (no clientConfig)";
  if ("url" in target) return target.url;
  const { namespace, name, port } = target.service;
  return `Service ${namespace}/${name}:${port}`;
}

/** A PEM block without line-wrapping differences. */
export function normalizePem(pem: string): string {
  return pem.replace(/\s+/g, "");
}
