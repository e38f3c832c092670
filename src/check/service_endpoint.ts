/** Where a Service's traffic goes: one ready endpoint address and port, from its EndpointSlices. */
import type { KubeClient } from "../kube/mod.ts";

type Service = {
  spec?: { ports?: { name?: string; port: number; targetPort?: number | string }[] };
};
type EndpointSlice = {
  ports?: { name?: string; port?: number }[];
  endpoints?: { addresses: string[]; conditions?: { ready?: boolean } }[];
};

/** A ready endpoint of the Service's port, or why there is none. */
export async function serviceEndpoint(
  client: KubeClient,
  service: { namespace: string; name: string; port: number },
): Promise<{ host: string; port: number } | { reason: string }> {
  const ns = encodeURIComponent(service.namespace);
  const found = await client.get<Service>(
    `/api/v1/namespaces/${ns}/services/${encodeURIComponent(service.name)}`,
  ).catch((error: Error) => error);
  if (found instanceof Error) return { reason: found.message };
  const servicePort = found.spec?.ports?.find((p) => p.port === service.port);
  if (!servicePort) {
    return { reason: `Service "${service.namespace}/${service.name}" has no port ${service.port}` };
  }
  const slices = await client.list<EndpointSlice>(
    `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`,
    { labelSelector: `kubernetes.io/service-name=${service.name}` },
  ).catch((error: Error) => error);
  if (slices instanceof Error) return { reason: slices.message };
  for (const slice of slices.items) {
    // A slice's ports carry the Service port's name and the target port's number.
    const port = slice.ports?.find((p) => (p.name ?? "") === (servicePort.name ?? ""))?.port;
    const ready = slice.endpoints?.find((e) => e.conditions?.ready !== false);
    const host = ready?.addresses[0];
    if (port && host) return { host, port };
  }
  return { reason: `Service "${service.namespace}/${service.name}" has no ready endpoint` };
}
