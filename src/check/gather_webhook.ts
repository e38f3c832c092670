/** The webhook's facts: its configuration, its CA Secret, its endpoint dialled, a dry-run pod. */
import { KubeApiError, type KubeClient } from "../kube/mod.ts";
import { INJECT_LABEL, SIDECAR_NAME } from "../inject/mod.ts";
import { encodePem, pemBlocks } from "../pki/mod.ts";
import { SYSTEM_NAMESPACES } from "../webhook/webhook_configuration.ts";
import type {
  AdmissionProbe,
  EndpointProbe,
  WebhookConfigurationFacts,
  WebhookFacts,
  WebhookTarget,
} from "./check_facts.ts";
import { type CheckIo, fetched, readCaSecret } from "./gather_common.ts";
import { serviceEndpoint } from "./service_endpoint.ts";

const MWC = "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations";

type Configuration = {
  webhooks?: {
    name: string;
    failurePolicy?: string;
    clientConfig?: {
      url?: string;
      caBundle?: string;
      service?: { namespace: string; name: string; port?: number };
    };
  }[];
};

/** What the webhook side needs. */
export interface WebhookGatherSpec {
  namespace: string;
  configurationName: string;
  caSecretName: string;
  /** The caller's namespace, where the dry-run pod goes unless mca never injects there. */
  callerNamespace: string;
}

/** Gathers the webhook's facts. */
export async function gatherWebhook(
  client: KubeClient,
  spec: WebhookGatherSpec,
  io: CheckIo,
): Promise<WebhookFacts> {
  const configuration = await fetched(
    client.get<Configuration>(`${MWC}/${encodeURIComponent(spec.configurationName)}`)
      .then(configurationFacts),
  );
  const ca = await readCaSecret(client, spec.namespace, spec.caSecretName);
  const facts: WebhookFacts = {
    configurationName: spec.configurationName,
    configuration,
    caSecretName: spec.caSecretName,
    ca,
  };
  const first = configuration.ok ? configuration.value.webhooks[0] : undefined;
  if (!first) return facts;
  const [served, admission] = await Promise.all([
    first.target
      ? dialWebhook(client, first.target, first.caBundle.join(""), io)
      : Promise.resolve(undefined),
    dryRunPod(client, probeNamespace(spec)),
  ]);
  return { ...facts, ...(served ? { served } : {}), admission };
}

function configurationFacts(configuration: Configuration): WebhookConfigurationFacts {
  return {
    webhooks: (configuration.webhooks ?? []).map((webhook) => {
      const config = webhook.clientConfig ?? {};
      const target: WebhookTarget | undefined = config.url
        ? { url: config.url }
        : config.service
        ? {
          service: {
            namespace: config.service.namespace,
            name: config.service.name,
            port: config.service.port ?? 443,
          },
        }
        : undefined;
      return {
        name: webhook.name,
        target,
        caBundle: pemBlocks(atob(config.caBundle ?? ""))
          .filter((block) => block.label === "CERTIFICATE")
          .map((block) => encodePem(block.der, "CERTIFICATE")),
        failurePolicy: webhook.failurePolicy ?? "Fail",
      };
    }),
  };
}

/** Dials the webhook where the API server would: its URL, or its Service's endpoint. */
async function dialWebhook(
  client: KubeClient,
  target: WebhookTarget,
  caPem: string,
  io: CheckIo,
): Promise<EndpointProbe> {
  if ("url" in target) {
    const url = new URL(target.url);
    return await io.probe({
      host: url.hostname.replace(/^\[|\]$/g, ""),
      port: Number(url.port || 443),
      serverName: url.hostname.replace(/^\[|\]$/g, ""),
      caPem,
      path: "/readyz",
    });
  }
  const { service } = target;
  const endpoint = await serviceEndpoint(client, service);
  if ("reason" in endpoint) return { reached: false, reason: endpoint.reason };
  // The API server checks a Service webhook's certificate for <name>.<namespace>.svc.
  return await io.probe({
    ...endpoint,
    serverName: `${service.name}.${service.namespace}.svc`,
    caPem,
    path: "/readyz",
    // Pod addresses are often out of reach from a workstation: the dry run covers that case.
    timeoutMs: 3_000,
  });
}

/** The caller's namespace, or "default" where the webhook never injects. */
function probeNamespace(spec: WebhookGatherSpec): string {
  const excluded = [...SYSTEM_NAMESPACES, spec.namespace];
  return excluded.includes(spec.callerNamespace) ? "default" : spec.callerNamespace;
}

/**
 * A server-side dry run of an opted-in pod: the API server calls the webhook (sideEffects: None
 * allows dry runs) with the real caBundle and network path, and stores nothing.
 */
async function dryRunPod(client: KubeClient, namespace: string): Promise<AdmissionProbe> {
  const pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { generateName: "mca-check-", labels: { [INJECT_LABEL]: "true" } },
    spec: { containers: [{ name: "check", image: "mca-check.invalid/none:0" }] },
  };
  try {
    const created = await client.create<
      { spec?: { initContainers?: { name: string }[]; containers?: { name: string }[] } }
    >(`/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`, pod, { dryRun: true });
    const names = [...created.spec?.initContainers ?? [], ...created.spec?.containers ?? []]
      .map((c) => c.name);
    return { ran: true, namespace, injected: names.includes(SIDECAR_NAME) };
  } catch (error) {
    const message = (error as Error).message;
    // The API server names webhooks in what it says about them ("failed calling webhook ...").
    const byWebhook = error instanceof KubeApiError && /webhook/i.test(message);
    return { ran: false, namespace, reason: byWebhook ? "refused" : "cannot-run", message };
  }
}
