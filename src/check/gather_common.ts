/** Helpers of the gathering side: reads that report forbidden and not-found, CA Secrets. */
import { KubeApiError, type KubeClient } from "../kube/mod.ts";
import { parseCertificatesPem } from "../pki/mod.ts";
import type { CertificateFacts, EndpointProbe, Fetched } from "./check_facts.ts";
import type { EndpointProbeSpec } from "./endpoint_probe.ts";

/** The side effects besides the API client, replaceable in tests. */
export interface CheckIo {
  probe(spec: EndpointProbeSpec): Promise<EndpointProbe>;
}

/** Awaits a read, telling not-found and forbidden apart from other failures. */
export async function fetched<T>(read: Promise<T>): Promise<Fetched<T>> {
  try {
    return { ok: true, value: await read };
  } catch (error) {
    const message = (error as Error).message;
    if (error instanceof KubeApiError && error.code === 404) {
      return { ok: false, reason: "not-found", message };
    }
    if (error instanceof KubeApiError && error.code === 403) {
      return { ok: false, reason: "forbidden", message };
    }
    return { ok: false, reason: "error", message };
  }
}

/** The current CA of a CA Secret (ca.crt, see src/common/ca_secret.ts). */
export function readCaSecret(
  client: KubeClient,
  namespace: string,
  name: string,
): Promise<Fetched<{ pem: string; certificate: CertificateFacts }>> {
  const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${
    encodeURIComponent(name)
  }`;
  return fetched(
    client.get<{ data?: Record<string, string> }>(path).then((secret) => {
      const pem = atob(secret.data?.["ca.crt"] ?? "");
      const [certificate] = parseCertificatesPem(pem);
      if (!certificate) {
        throw new Error(`Secret "${namespace}/${name}" holds no ca.crt certificate`);
      }
      const { subject, notBefore, notAfter } = certificate;
      return { pem, certificate: { subject, notBefore, notAfter } };
    }),
  );
}
