/**
 * What `mca check` learns about a setup, as plain data: gathered once by gather_facts.ts (the
 * only part that talks to clusters), then judged by pure functions.
 */

/** A read that may fail; forbidden and not-found are told apart because they mean different things. */
export type Fetched<T> =
  | { ok: true; value: T }
  | { ok: false; reason: "not-found" | "forbidden" | "error"; message: string };

/** The few fields of a certificate the checks read. */
export interface CertificateFacts {
  subject: string;
  notBefore: Date;
  notAfter: Date;
}

/** A TLS connection to an endpoint, verified against a given bundle, and its answer to a GET. */
export type EndpointProbe =
  | {
    reached: true;
    /** host:port dialled. */
    address: string;
    /** The name the certificate was checked for (the name the API server or agents use). */
    serverName: string;
    /** Whether the served chain verifies with the bundle and names serverName. */
    trusted: boolean;
    /** The TLS stack's reason when not trusted, e.g. "SELF_SIGNED_CERT_IN_CHAIN". */
    trustError?: string;
    certificate: CertificateFacts;
    /** The answer to GET of the probed path (/readyz). */
    answer: { status: number; body: string };
  }
  | { reached: false; address?: string; reason: string };

/** How the API server calls the webhook, as its configuration says. */
export type WebhookTarget =
  | { url: string }
  | { service: { namespace: string; name: string; port: number } };

/** The MutatingWebhookConfiguration's parts the checks read. */
export interface WebhookConfigurationFacts {
  /** One entry per webhook in it. */
  webhooks: {
    name: string;
    target: WebhookTarget | undefined;
    /** The caBundle's certificates as PEM blocks; empty when none is set. */
    caBundle: string[];
    failurePolicy: string;
  }[];
}

/** The outcome of a server-side dry run of an opted-in pod (the API server calls the webhook). */
export type AdmissionProbe =
  | { ran: true; namespace: string; injected: boolean }
  | { ran: false; namespace: string; reason: "refused" | "cannot-run"; message: string };

/** The webhook's side of the host. */
export interface WebhookFacts {
  configurationName: string;
  configuration: Fetched<WebhookConfigurationFacts>;
  caSecretName: string;
  /** The current CA in the webhook's CA Secret, as PEM and its fields. */
  ca: Fetched<{ pem: string; certificate: CertificateFacts }>;
  /** The endpoint the configuration names, dialled directly with the configuration's caBundle. */
  served?: EndpointProbe;
  admission?: AdmissionProbe;
}

/** The hub's side of the host. */
export interface HubFacts {
  caSecretName: string;
  ca: Fetched<{ pem: string; certificate: CertificateFacts }>;
  /** Where the hub was looked for: the --hub URL or the Service. */
  target: string;
  /** The hub dialled directly, verified against the CA in its Secret. */
  served?: EndpointProbe;
  /** /readyz through the API server's service proxy, when the hub cannot be dialled directly. */
  proxiedReadyz?: { status: number; body: string } | { error: string };
  /** The APIService of the aggregated entrance (v1alpha1.proxy.mca.k8s.io). */
  apiService?: Fetched<ApiServiceFacts>;
}

/** The parts of the aggregated entrance's APIService the checks read. */
export interface ApiServiceFacts {
  name: string;
  /** Its Available condition, as the host's aggregator reports it. */
  available?: { status: string; reason?: string; message?: string };
  /** The caBundle's certificates as PEM blocks (the hub keeps it on its CA). */
  caBundle: string[];
}

/** One Cluster object and the status the hub writes on it (src/hub/cluster_status.ts). */
export interface ClusterFacts {
  name: string;
  connectedAgents?: number;
  lastHeartbeat?: Date;
  memberVersion?: string;
  connected?: { status: string; reason?: string; message?: string; since?: Date };
}

/** The caller's rights on clusters/proxy in one API group for one verb. */
export type VerbAccess =
  & { group: string; verb: string }
  & (
    | { allowed: "all" }
    /** Allowed for some Cluster objects only (by name); empty: for none. */
    | { allowed: "some"; clusters: string[] }
    | { allowed: "unknown"; message: string }
  );

/** Everything the checks judge. */
export interface CheckFacts {
  now: Date;
  namespace: string;
  api: { server: string; source: string } & ({ version: string } | { error: string });
  webhook?: WebhookFacts;
  hub?: HubFacts;
  clusters?: Fetched<ClusterFacts[]>;
  access?: VerbAccess[];
}
