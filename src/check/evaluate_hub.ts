/**
 * The hub's checks: its CA Secret, its readiness, the certificate it serves, its aggregated
 * entrance (pure).
 */
import type { HubFacts } from "./check_facts.ts";
import { encodePem, pemBlocks } from "../pki/mod.ts";
import { normalizePem } from "./evaluate_webhook.ts";
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
  return [
    caLine,
    readiness(hub, namespace),
    servedCertificate(hub, secret),
    ...aggregatedEntrance(hub),
  ];
}

/** The APIService: Available, with the hub CA in its caBundle; one skip line when not registered. */
function aggregatedEntrance(hub: HubFacts): CheckResult[] {
  const found = hub.apiService;
  if (!found) return [];
  if (!found.ok) {
    const detail = found.reason === "not-found"
      ? "no APIService (the chart's aggregatedApi is off)"
      : found.message;
    return [{ section: SECTION, title: "the aggregated entrance", status: "skip", detail }];
  }
  const service = found.value;
  const title = `the aggregated entrance (APIService ${service.name}) is Available`;
  const available = service.available;
  const hint = `kubectl get apiservice ${service.name} -o yaml shows the host's reason; ` +
    "the host API server must reach the hub's pods (--enable-aggregator-routing) and trust its CA";
  if (available?.status !== "True") {
    const why = available
      ? `${available.reason ?? available.status}: ${oneLine(available.message ?? "")}`
      : "no Available condition yet";
    return [{ section: SECTION, title, status: "fail", detail: why, hint }];
  }
  const hubCa = hub.ca.ok ? firstCertificate(hub.ca.value.pem) : undefined;
  if (hubCa && !service.caBundle.map(normalizePem).includes(hubCa)) {
    return [{
      section: SECTION,
      title,
      status: "warn",
      detail: "its caBundle does not hold the hub CA",
      hint: "The hub sets the caBundle within 30 s (--aggregated-api); is it allowed to patch " +
        "the APIService?",
    }];
  }
  return [{ section: SECTION, title, status: "ok" }];
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

/** The first certificate of a PEM bundle, normalized; undefined when it holds none. */
function firstCertificate(pem: string): string | undefined {
  const block = pemBlocks(pem).find((b) => b.label === "CERTIFICATE");
  return block ? normalizePem(encodePem(block.der, "CERTIFICATE")) : undefined;
}
