/** The hub's checks: its CA Secret, its readiness, the certificate it serves (pure). */
import type { HubFacts } from "./check_facts.ts";
import {
  type CheckResult,
  oneLine,
  readinessVerdict,
  servedCertificateVerdict,
} from "./check_result.ts";

const SECTION = "hub";

/** Judges the hub's facts; one skip line when no hub is installed and none was named. */
export function evaluateHub(hub: HubFacts, namespace: string, named: boolean): CheckResult[] {
  const secret = `Secret "${namespace}/${hub.caSecretName}"`;
  if (!hub.ca.ok && hub.ca.reason === "not-found" && !named) {
    return [{
      section: SECTION,
      title: "the hub is installed",
      status: "skip",
      detail: `no ${secret} (the hub creates it when it starts)`,
    }];
  }
  const caLine: CheckResult = hub.ca.ok
    ? { section: SECTION, title: `the hub CA is in ${secret}`, status: "ok" }
    : {
      section: SECTION,
      title: `the hub CA is in ${secret}`,
      status: hub.ca.reason === "not-found" ? "fail" : "skip",
      detail: hub.ca.message,
      ...(hub.ca.reason === "not-found"
        ? { hint: "Start the hub (it creates its CA), or pass --namespace and --hub-ca-secret" }
        : {}),
    };
  return [caLine, readiness(hub, namespace), servedCertificate(hub, secret)];
}

function readiness(hub: HubFacts, namespace: string): CheckResult {
  const title = "the hub is ready";
  const hint = `Is the hub running? kubectl -n ${namespace} get pods,endpointslices; ` +
    "its /readyz says what it waits for";
  const served = hub.served;
  if (served?.reached) {
    return readinessVerdict(SECTION, title, served, hint);
  }
  const proxied = hub.proxiedReadyz;
  if (proxied && "status" in proxied) {
    return proxied.status === 200
      ? {
        section: SECTION,
        title,
        status: "ok",
        detail: `${hub.target}/readyz through the API server's service proxy: ok`,
      }
      : {
        section: SECTION,
        title,
        status: "fail",
        detail: `${hub.target}/readyz through the API server's service proxy answered ` +
          `${proxied.status}: ${oneLine(proxied.body)}`,
        hint,
      };
  }
  const reasons = [
    served && !served.reached ? `${served.address ?? hub.target}: ${served.reason}` : undefined,
    proxied && "error" in proxied ? `service proxy: ${proxied.error}` : undefined,
  ].filter(Boolean);
  return {
    section: SECTION,
    title,
    status: "fail",
    detail: `cannot reach ${hub.target}${reasons.length ? ` (${reasons.join("; ")})` : ""}`,
    hint: `${hint}; from outside the cluster pass --hub with the URL agents dial`,
  };
}

function servedCertificate(hub: HubFacts, secret: string): CheckResult {
  const title = `the hub's certificate chains to the CA in ${secret}`;
  const served = hub.served;
  if (!hub.ca.ok) return { section: SECTION, title, status: "skip", detail: "no hub CA" };
  if (!served?.reached) {
    return {
      section: SECTION,
      title,
      status: "skip",
      detail: `cannot dial ${hub.target} from here; pass --hub with the URL agents dial`,
    };
  }
  return servedCertificateVerdict(SECTION, title, served, {
    checkedWith: "",
    hint: "Agents pin the hub CA and refuse this hub: make sure the hub uses that Secret " +
      "(--ca-secret) and that its certificate names the address agents dial (--dns-names, " +
      "--ip-addresses; in the chart hub.dnsNames, hub.ipAddresses)",
  });
}
