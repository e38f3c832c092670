/** The report: one line per check, hints under failures, ASCII off a UTF-8 terminal, and JSON. */
import { assertEquals } from "../_utils/assert.ts";
import { type CheckResult, renderJson, renderText, reportSymbols } from "../../src/check/mod.ts";

const RESULTS: CheckResult[] = [
  { section: "kubernetes-api", title: "the API server is reachable", status: "ok", detail: "v1" },
  {
    section: "hub",
    title: "the hub is ready",
    status: "fail",
    detail: "answered 503",
    hint: "start it",
  },
  { section: "hub", title: "the hub is installed", status: "skip", detail: "no Secret" },
  { section: "access", title: "you may get", status: "warn", detail: "only on a", hint: "bind" },
];

Deno.test("renderText() prints sections, one line per check and hints under failures and warnings", () => {
  assertEquals(
    renderText(RESULTS, "ascii"),
    [
      "kubernetes-api",
      "--------------",
      "[ok]   the API server is reachable: v1",
      "",
      "hub",
      "---",
      "[FAIL] the hub is ready: answered 503",
      "       hint: start it",
      "[skip] the hub is installed: skipped: no Secret",
      "",
      "access",
      "------",
      "[warn] you may get: only on a",
      "       hint: bind",
      "",
      "Status check results: FAILED (1 ok, 1 warnings, 1 failed, 1 skipped)",
      "",
    ].join("\n"),
  );
  const unicode = renderText(RESULTS.slice(0, 1), "unicode");
  assertEquals(unicode.split("\n")[2], "✔ the API server is reachable: v1");
  assertEquals(
    unicode.split("\n").at(-2),
    "Status check results: passed (1 ok, 0 warnings, 0 failed, 0 skipped)",
  );
});

Deno.test("renderJson() gives every result, the counts and success", () => {
  const report = JSON.parse(renderJson(RESULTS));
  assertEquals(report.success, false);
  assertEquals(report.summary, { ok: 1, warn: 1, fail: 1, skip: 1 });
  assertEquals(report.checks, RESULTS);
  assertEquals(JSON.parse(renderJson(RESULTS.slice(0, 1))).success, true);
});

Deno.test("reportSymbols() uses Unicode marks only on a UTF-8 terminal without NO_COLOR", () => {
  const env = (vars: Record<string, string>) => (name: string) => vars[name];
  assertEquals(reportSymbols(true, env({ LANG: "en_US.UTF-8" })), "unicode");
  assertEquals(reportSymbols(true, env({ LC_ALL: "C.utf8", LANG: "C" })), "unicode");
  assertEquals(reportSymbols(false, env({ LANG: "en_US.UTF-8" })), "ascii");
  assertEquals(reportSymbols(true, env({ LANG: "en_US.UTF-8", NO_COLOR: "" })), "ascii");
  assertEquals(reportSymbols(true, env({ LANG: "C" })), "ascii");
});
