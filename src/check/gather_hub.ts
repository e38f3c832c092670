/**
 * The hub's facts: its CA Secret, the hub dialled (its URL or its Service) for /readyz, and the
 * APIService of its aggregated entrance.
 */
import type { KubeClient } from "../kube/mod.ts";
import { encodePem, pemBlocks } from "../pki/mod.ts";
import type { ApiServiceFacts, Fetched, HubFacts } from "./check_facts.ts";
import { type CheckIo, fetched, readCaSecret } from "./gather_common.ts";
import { serviceEndpoint } from "./service_endpoint.ts";

/** What the hub side needs. */
export interface HubGatherSpec {
  namespace: string;
  caSecretName: string;
  /** The hub as agents dial it (--hub); otherwise its Service. */
  hubUrl?: string;
  service: { name: string; port: number };
}

/** The APIService the chart registers for the hub (src/hub/hub_options.ts `apiService`). */
export const HUB_API_SERVICE = "v1alpha1.proxy.mca.k8s.io";

/** Gathers the hub's facts; dials nothing when there is no hub CA and no --hub. */
export async function gatherHub(
  client: KubeClient,
  spec: HubGatherSpec,
  io: CheckIo,
): Promise<HubFacts> {
  const [served, apiService] = await Promise.all([
    gatherServedHub(client, spec, io),
    gatherApiService(client),
  ]);
  return { ...served, apiService };
}

type ApiServiceObject = {
  spec?: { caBundle?: string };
  status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] };
};

function gatherApiService(client: KubeClient): Promise<Fetched<ApiServiceFacts>> {
  return fetched(
    client.get<ApiServiceObject>(`/apis/apiregistration.k8s.io/v1/apiservices/${HUB_API_SERVICE}`)
      .then((object) => {
        const condition = object.status?.conditions?.find((c) => c.type === "Available");
        return {
          name: HUB_API_SERVICE,
          ...(condition
            ? {
              available: {
                status: condition.status,
                ...(condition.reason ? { reason: condition.reason } : {}),
                ...(condition.message ? { message: condition.message } : {}),
              },
            }
            : {}),
          caBundle: pemBlocks(atob(object.spec?.caBundle ?? ""))
            .filter((block) => block.label === "CERTIFICATE")
            .map((block) => encodePem(block.der, "CERTIFICATE")),
        };
      }),
  );
}

async function gatherServedHub(
  client: KubeClient,
  spec: HubGatherSpec,
  io: CheckIo,
): Promise<HubFacts> {
  const ca = await readCaSecret(client, spec.namespace, spec.caSecretName);
  const service = { namespace: spec.namespace, ...spec.service };
  const target = spec.hubUrl ?? `Service ${service.namespace}/${service.name}:${service.port}`;
  const facts: HubFacts = { caSecretName: spec.caSecretName, ca, target };
  if (!ca.ok && !spec.hubUrl) return facts;
  const caPem = ca.ok ? ca.value.pem : "";
  if (spec.hubUrl) {
    const url = new URL(spec.hubUrl);
    const host = url.hostname.replace(/^\[|\]$/g, "");
    const served = await io.probe({
      host,
      port: Number(url.port || 443),
      serverName: host,
      caPem,
      path: "/readyz",
    });
    return { ...facts, served };
  }
  const endpoint = await serviceEndpoint(client, service);
  const served = "reason" in endpoint ? { reached: false as const, reason: endpoint.reason } : {
    ...await io.probe({
      ...endpoint,
      // The hub's certificate names its Service by default (src/hub/hub_options.ts).
      serverName: `${service.name}.${service.namespace}.svc`,
      caPem,
      path: "/readyz",
      timeoutMs: 3_000,
    }),
  };
  if (served.reached) return { ...facts, served };
  // From a workstation, pod addresses are usually out of reach; the API server is not.
  const proxyPath = `/api/v1/namespaces/${encodeURIComponent(service.namespace)}/services/` +
    `https:${encodeURIComponent(service.name)}:${service.port}/proxy/readyz`;
  const proxiedReadyz = await client.request(proxyPath).then(
    async (response) => ({ status: response.status, body: await response.text() }),
    (error: Error) => ({ error: error.message }),
  );
  return { ...facts, served, proxiedReadyz };
}
