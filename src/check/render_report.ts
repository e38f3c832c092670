/** The report of `mca check`: text with one line per check, or JSON (pure). */
import {
  CHECK_SECTIONS,
  type CheckResult,
  type CheckStatus,
  type CheckSummary,
  summarize,
} from "./check_result.ts";

/** Marks for a UTF-8 terminal, and plain ASCII for pipes, logs and NO_COLOR. */
export type ReportSymbols = "unicode" | "ascii";

const MARKS: Record<ReportSymbols, Record<CheckStatus, string>> = {
  unicode: { ok: "✔", warn: "‼", fail: "✘", skip: "-" },
  ascii: { ok: "[ok]", warn: "[warn]", fail: "[FAIL]", skip: "[skip]" },
};

/** The text report: sections, one line per check, details and hints indented below. */
export function renderText(results: readonly CheckResult[], symbols: ReportSymbols): string {
  const marks = MARKS[symbols];
  const width = Math.max(...Object.values(marks).map((mark) => mark.length));
  const indent = " ".repeat(width + 1);
  const lines: string[] = [];
  for (const section of CHECK_SECTIONS) {
    const inSection = results.filter((result) => result.section === section);
    if (inSection.length === 0) continue;
    if (lines.length > 0) lines.push("");
    lines.push(section, "-".repeat(section.length));
    for (const result of inSection) {
      const mark = marks[result.status].padEnd(width);
      const skipped = result.status === "skip" ? "skipped: " : "";
      lines.push(
        result.status === "skip"
          ? `${mark} ${result.title}: ${skipped}${result.detail ?? ""}`
          : `${mark} ${result.title}${result.detail ? `: ${result.detail}` : ""}`,
      );
      if (result.hint && (result.status === "fail" || result.status === "warn")) {
        lines.push(`${indent}hint: ${result.hint}`);
      }
    }
  }
  lines.push("", summaryLine(summarize(results)));
  return lines.join("\n") + "\n";
}

/** The JSON report: every result and the counts; `success` is false when any check failed. */
export function renderJson(results: readonly CheckResult[]): string {
  const summary = summarize(results);
  return JSON.stringify({ success: summary.fail === 0, summary, checks: results }, null, 2) + "\n";
}

function summaryLine(summary: CheckSummary): string {
  const verdict = summary.fail === 0
    ? "Status check results: passed"
    : "Status check results: FAILED";
  return `${verdict} (${summary.ok} ok, ${summary.warn} warnings, ${summary.fail} failed, ` +
    `${summary.skip} skipped)`;
}

/** Unicode marks only on a terminal whose locale is UTF-8 and without NO_COLOR. */
export function reportSymbols(
  isTerminal: boolean,
  env: (name: string) => string | undefined,
): ReportSymbols {
  if (!isTerminal || env("NO_COLOR") !== undefined) return "ascii";
  const locale = env("LC_ALL") || env("LC_CTYPE") || env("LANG") || "";
  return /utf-?8/i.test(locale) ? "unicode" : "ascii";
}
