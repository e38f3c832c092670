/** Facts of a healthy setup, for the check tests to break one at a time. */
import type { CheckFacts, EndpointProbe } from "../../src/check/mod.ts";

export const NOW = new Date("2026-03-01T12:00:00Z");
const DAY = 86_400_000;

/** A certificate valid from `startDays` ago for `days`. */
export function certificate(subject: string, startDays: number, days: number) {
  const notBefore = new Date(NOW.getTime() - startDays * DAY);
  return { subject, notBefore, notAfter: new Date(notBefore.getTime() + days * DAY) };
}

/** A reachable, trusted, ready endpoint. */
export function served(
  address: string,
  serverName: string,
  cert = certificate("CN=serving", 1, 30),
): EndpointProbe {
  return {
    reached: true,
    address,
    serverName,
    trusted: true,
    certificate: cert,
    answer: { status: 200, body: "ok" },
  };
}

export const WEBHOOK_CA_PEM = "-----BEGIN CERTIFICATE-----\nQUJD\n-----END CERTIFICATE-----\n";
export const HUB_CA_PEM = "-----BEGIN CERTIFICATE-----\nREVG\n-----END CERTIFICATE-----\n";

/** Everything right: webhook, hub, one connected cluster, full rights. */
export function healthyFacts(): CheckFacts {
  return {
    now: NOW,
    namespace: "mca-system",
    api: { server: "https://127.0.0.1:6443", source: 'context "host"', version: "v1.34.10" },
    webhook: {
      configurationName: "mca",
      configuration: {
        ok: true,
        value: {
          webhooks: ["pods.mca.k8s.io", "namespaces.mca.k8s.io"].map((name) => ({
            name,
            target: { service: { namespace: "mca-system", name: "mca-webhook", port: 443 } },
            caBundle: ["-----BEGIN CERTIFICATE-----\nQU\nJD\n-----END CERTIFICATE-----"],
            failurePolicy: "Fail",
          })),
        },
      },
      caSecretName: "mca-webhook-ca",
      ca: {
        ok: true,
        value: { pem: WEBHOOK_CA_PEM, certificate: certificate("CN=webhook", 1, 3650) },
      },
      served: served("10.0.0.5:8443", "mca-webhook.mca-system.svc"),
      admission: { ran: true, namespace: "default", injected: true },
    },
    hub: {
      caSecretName: "mca-hub-ca",
      ca: {
        ok: true,
        value: { pem: HUB_CA_PEM, certificate: certificate("CN=mca-hub-ca", 1, 3650) },
      },
      target: "https://hub.example.com:9443",
      served: served("hub.example.com:9443", "hub.example.com", certificate("CN=hub", 1, 365)),
      apiService: {
        ok: true,
        value: {
          name: "v1alpha1.proxy.mca.k8s.io",
          available: { status: "True", reason: "Passed" },
          caBundle: [WEBHOOK_CA_PEM, HUB_CA_PEM],
        },
      },
    },
    clusters: {
      ok: true,
      value: [{
        name: "east",
        connectedAgents: 2,
        lastHeartbeat: new Date(NOW.getTime() - 10_000),
        memberVersion: "v1.34.10",
        connected: {
          status: "True",
          reason: "AgentConnected",
          since: new Date(NOW.getTime() - DAY),
        },
      }],
    },
    access: ["mca.k8s.io", "proxy.mca.k8s.io"].flatMap((group) =>
      ["get", "create"].map((verb) => ({ group, verb, allowed: "all" as const }))
    ),
  };
}

/** The probe changed, or a failure if it did not reach its endpoint. */
export function changed(
  probe: EndpointProbe | undefined,
  change: Partial<Extract<EndpointProbe, { reached: true }>>,
): EndpointProbe {
  if (!probe?.reached) throw new Error("the healthy facts reach every endpoint");
  return { ...probe, ...change };
}
