/** The verdict of one check, as `mca check` prints it (pure). */
import type { EndpointProbe } from "./check_facts.ts";

/** Passed, passed with a warning, failed, or could not apply here. */
export type CheckStatus = "ok" | "warn" | "fail" | "skip";

/** The groups checks are printed under, in order. */
export const CHECK_SECTIONS = [
  "kubernetes-api",
  "webhook",
  "hub",
  "clusters",
  "certificates",
  "access",
] as const;

/** One of CHECK_SECTIONS. */
export type CheckSection = typeof CHECK_SECTIONS[number];

/** One line of the report. */
export interface CheckResult {
  section: CheckSection;
  /** What is checked, phrased as what should hold: "the hub is ready". */
  title: string;
  status: CheckStatus;
  /** What was found; for a skip, why the check does not apply. */
  detail?: string;
  /** What to do about a warning or a failure. */
  hint?: string;
}

/** Counts by status. */
export type CheckSummary = Record<CheckStatus, number>;

/** Counts the results by status. */
export function summarize(results: readonly CheckResult[]): CheckSummary {
  const summary: CheckSummary = { ok: 0, warn: 0, fail: 0, skip: 0 };
  for (const result of results) summary[result.status]++;
  return summary;
}

const DAY_MS = 86_400_000;

/** "3 days", "5 hours", "40 minutes": a rough length of time for messages. */
export function roughDuration(ms: number): string {
  const abs = Math.abs(ms);
  const [value, unit] = abs >= 2 * DAY_MS
    ? [abs / DAY_MS, "day"]
    : abs >= 2 * 3_600_000
    ? [abs / 3_600_000, "hour"]
    : abs >= 2 * 60_000
    ? [abs / 60_000, "minute"]
    : [abs / 1000, "second"];
  const whole = Math.floor(value);
  return `${whole} ${unit}${whole === 1 ? "" : "s"}`;
}

/** The verdict on a certificate served at an endpoint that was reached: trusted or not. */
export function servedCertificateVerdict(
  section: CheckSection,
  title: string,
  served: Extract<EndpointProbe, { reached: true }>,
  failure: { checkedWith: string; hint: string },
): CheckResult {
  if (served.trusted) {
    return {
      section,
      title,
      status: "ok",
      detail: `${served.address} serves "${served.certificate.subject}" for ${served.serverName}`,
    };
  }
  return {
    section,
    title,
    status: "fail",
    detail: `the certificate served at ${served.address} does not verify for ` +
      `${served.serverName}${failure.checkedWith}: ${served.trustError ?? "untrusted"}`,
    hint: failure.hint,
  };
}

/** The verdict on an endpoint's `/readyz` answer. */
export function readinessVerdict(
  section: CheckSection,
  title: string,
  served: Extract<EndpointProbe, { reached: true }>,
  hint: string,
): CheckResult {
  if (served.answer.status === 200) {
    return { section, title, status: "ok", detail: `${served.address}/readyz: ok` };
  }
  return {
    section,
    title,
    status: "fail",
    detail: `${served.address}/readyz answered ${served.answer.status}: ${
      oneLine(served.answer.body)
    }`,
    hint,
  };
}

/** The first line of a body, short enough for a report line. */
export function oneLine(text: string): string {
  return text.trim().split("\n")[0]?.slice(0, 200) ?? "";
}
