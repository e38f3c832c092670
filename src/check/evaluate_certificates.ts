/** Certificates' expiry: the webhook and hub CAs and the certificates both serve (pure). */
import type { CertificateFacts, CheckFacts, EndpointProbe } from "./check_facts.ts";
import { type CheckResult, roughDuration } from "./check_result.ts";

const SECTION = "certificates";
const DAY_MS = 86_400_000;
/** Warn when a certificate has less than this left. */
export const EXPIRY_WARNING_MS = 30 * DAY_MS;

/** One line per certificate that could be read; none for a component that is not there. */
export function evaluateCertificates(facts: CheckFacts): CheckResult[] {
  const results: CheckResult[] = [];
  const { webhook, hub, now } = facts;
  const hint = (what: string) => `${what} renews it itself: is it running? Its log says why not`;
  if (webhook?.ca.ok) {
    results.push(expiry("the webhook CA", webhook.ca.value.certificate, now, {
      renewed: false,
      hint: "The webhook rotates its CA when a fifth of its lifetime is left: is it running?",
    }));
  }
  const webhookServing = served(webhook?.served);
  if (webhookServing) {
    results.push(
      expiry("the webhook's serving certificate", webhookServing, now, {
        renewed: true,
        hint: hint("The webhook"),
      }),
    );
  }
  if (hub?.ca.ok) {
    results.push(expiry("the hub CA", hub.ca.value.certificate, now, {
      renewed: false,
      // The hub never rotates its CA: agents pin it (docs/operations.md).
      hint: "The hub does not rotate its CA (agents pin it): plan its replacement with " +
        "docs/operations.md before it ends",
    }));
  }
  const hubServing = served(hub?.served);
  if (hubServing) {
    results.push(
      expiry("the hub's serving certificate", hubServing, now, {
        renewed: true,
        hint: hint("The hub"),
      }),
    );
  }
  return results;
}

/**
 * Fails when expired; warns under 30 days left. A certificate its component renews at two thirds
 * of its lifetime (the webhook's lasts 30 days) warns only once renewal is clearly overdue: under
 * a quarter of its lifetime left.
 */
export function expiry(
  name: string,
  certificate: CertificateFacts,
  now: Date,
  options: { renewed: boolean; hint: string },
): CheckResult {
  const title = `${name} is valid for 30 days or more`;
  const left = certificate.notAfter.getTime() - now.getTime();
  const lifetime = certificate.notAfter.getTime() - certificate.notBefore.getTime();
  const threshold = options.renewed ? Math.min(EXPIRY_WARNING_MS, lifetime / 4) : EXPIRY_WARNING_MS;
  const until = certificate.notAfter.toISOString();
  if (left <= 0) {
    return {
      section: SECTION,
      title,
      status: "fail",
      detail: `"${certificate.subject}" expired ${roughDuration(left)} ago (${until})`,
      hint: options.hint,
    };
  }
  if (left < threshold) {
    return {
      section: SECTION,
      title,
      status: "warn",
      detail: `"${certificate.subject}" expires in ${roughDuration(left)} (${until})`,
      hint: options.hint,
    };
  }
  return {
    section: SECTION,
    title: options.renewed && threshold < EXPIRY_WARNING_MS
      ? `${name} is not overdue for renewal`
      : title,
    status: "ok",
    detail: `expires in ${roughDuration(left)} (${until})`,
  };
}

function served(probe: EndpointProbe | undefined): CertificateFacts | undefined {
  return probe?.reached ? probe.certificate : undefined;
}
