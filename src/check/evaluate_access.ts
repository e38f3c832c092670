/**
 * The caller's rights on clusters/proxy, as the hub authorizes them (src/hub/user_access.ts) and,
 * for the aggregated entrance, as the host API server does first (pure).
 */
import type { VerbAccess } from "./check_facts.ts";
import type { CheckResult } from "./check_result.ts";

const SECTION = "access";

/** What each verb lets a caller do through the hub (the hub maps methods to verbs). */
const USES: Record<string, string> = {
  get: "reads, watches, logs, and exec/attach/port-forward over WebSocket",
  create: "POST: creating objects, and exec/attach/port-forward over SPDY",
};

/** One line per verb. */
export function evaluateAccess(access: readonly VerbAccess[]): CheckResult[] {
  return access.map((entry) => {
    const title = `you may ${entry.verb} clusters/proxy (${entry.group})`;
    if (entry.allowed === "all") {
      return { section: SECTION, title, status: "ok", detail: "on every Cluster" };
    }
    if (entry.allowed === "unknown") {
      return { section: SECTION, title, status: "skip", detail: entry.message };
    }
    const through = entry.group === "mca.k8s.io" ? "" : " through the host API server";
    // One rule names both groups, so both entrances are covered (docs/security.md).
    const hint = `${entry.verb} is needed for ${USES[entry.verb] ?? "this verb"}${through}: ` +
      `kubectl create clusterrole mca-members --verb=get,create ` +
      "--resource=clusters.mca.k8s.io/proxy,clusters.proxy.mca.k8s.io/proxy " +
      "[--resource-name=<cluster>], and bind it to you";
    if (entry.clusters.length > 0) {
      return {
        section: SECTION,
        title,
        status: "warn",
        detail: `only on ${entry.clusters.map((c) => `"${c}"`).join(", ")}`,
        hint,
      };
    }
    return {
      section: SECTION,
      title,
      status: "fail",
      detail: "on no Cluster: the hub will answer 403 Forbidden",
      hint,
    };
  });
}
