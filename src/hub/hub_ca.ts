/**
 * The hub's CAs at run time, read from the Secret every replica shares: the CA that signs this
 * replica's certificates and the set agents trust. Replicas follow the Secret, so a rollover
 * phase (hub_ca_rollover.ts) reaches all of them within one check interval and they agree.
 */
import type { KubeClient } from "../kube/mod.ts";
import type { Logger } from "../log/mod.ts";
import {
  type CertificateAuthority,
  DAY_MS,
  issueCertificate,
  loadCertificateAuthority,
  type RenewedCertificate,
  trustBundle,
  type TrustedCa,
  trustSetOf,
} from "../pki/mod.ts";
import { ensureSharedCa } from "../common/mod.ts";
import { readHubCaState, trustedCaPems } from "./hub_ca_state.ts";
import type { ResolvedHubOptions } from "./hub_options.ts";
import type { AgentSessions } from "./agent_sessions.ts";
import { writeClusterStatuses } from "./cluster_status.ts";
import type { HubTrust } from "./hub_trust.ts";
import { PEER_COMMON_NAME } from "./hub_peers.ts";

/** The hub CA Secret as the hub uses it. */
export interface HubCaView {
  /** Signs the serving and replica certificates. */
  ca: CertificateAuthority;
  /** What agents, clients and replicas trust now (the current CA, plus next or previous). */
  trust: TrustedCa[];
  resourceVersion: string;
}

type SecretObject = { metadata?: { resourceVersion?: string }; data?: Record<string, string> };

/** Reads the hub CA Secret, creating it with a new CA on the first start (race-safe). */
export async function loadHubCa(
  client: KubeClient,
  { namespace, name }: { namespace: string; name: string },
): Promise<HubCaView> {
  // Never rotated here (rotateAtRemaining 0): agents pin it; `mca hub ca rotate` rolls it over.
  await ensureSharedCa(client, { namespace, name, commonName: "mca-hub-ca", rotateAtRemaining: 0 });
  return await readHubCa(client, { namespace, name });
}

async function readHubCa(
  client: KubeClient,
  { namespace, name }: { namespace: string; name: string },
): Promise<HubCaView> {
  const secret = await client.get<SecretObject>(
    `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${encodeURIComponent(name)}`,
  );
  const state = readHubCaState(secret.data, name);
  return {
    ca: await loadCertificateAuthority(state.current.certPem, state.current.keyPem),
    trust: await trustSetOf(trustedCaPems(state).join("")),
    resourceVersion: secret.metadata?.resourceVersion ?? "",
  };
}

/** Checks the Secret every `intervalMs` until aborted; `onChange` gets each new version. */
export async function followHubCa(
  client: KubeClient,
  options: {
    namespace: string;
    name: string;
    intervalMs: number;
    from: HubCaView;
    onChange: (view: HubCaView) => Promise<void>;
    logger: Logger;
    signal: AbortSignal;
  },
): Promise<void> {
  const { signal, logger } = options;
  let seen = options.from.resourceVersion;
  while (!signal.aborted) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, options.intervalMs);
      signal.addEventListener("abort", () => {
        clearTimeout(timer);
        resolve();
      }, { once: true });
    });
    if (signal.aborted) return;
    try {
      const view = await readHubCa(client, options);
      if (view.resourceVersion === seen) continue;
      await options.onChange(view);
      seen = view.resourceVersion;
    } catch (error) {
      // The CA in use stays; a broken Secret must not take the hub down.
      logger.warn("cannot read the hub CA Secret; keeping the CAs in use", {
        secret: options.name,
        error: (error as Error).message,
      });
    }
  }
}

/** Issuers of the serving certificate and of the replicas' client certificate, by the CA of now. */
export function hubCertificates(ca: () => CertificateAuthority, options: ResolvedHubOptions) {
  const validityDays = options.certValidityMs / DAY_MS;
  return {
    serving: () =>
      issueCertificate(ca(), {
        commonName: options.dnsNames[0] ?? options.ipAddresses[0] ?? "mca-hub",
        dnsNames: options.dnsNames,
        ipAddresses: options.ipAddresses,
        validityDays,
      }),
    peer: () =>
      issueCertificate(ca(), { commonName: PEER_COMMON_NAME, usages: ["client"], validityDays }),
  };
}

/** The CA and set of the Secret, and this replica's first serving and replica certificates. */
export async function firstCertificates(client: KubeClient, options: ResolvedHubOptions) {
  const hubCa = await loadHubCa(client, { namespace: options.namespace, name: options.caSecret });
  // Mutable: a rollover phase replaces both (run_hub.ts, followRollover).
  const cas = { ca: hubCa.ca, bundle: trustBundle(hubCa.trust) };
  const certificates = hubCertificates(() => cas.ca, options);
  const serving = await certificates.serving();
  // Replicas prove themselves to each other with a client certificate of the shared CA.
  const peerCertificate = await certificates.peer();
  return { hubCa, cas, certificates, serving, peerCertificate };
}

/**
 * Follows the CA Secret: at each rollover phase, certificates of the CA of now, trusted by the set
 * of now, the set told to agents, and the Clusters' hubCaTrust rewritten.
 */
export function followRollover(client: KubeClient, parts: {
  options: ResolvedHubOptions;
  hubCa: HubCaView;
  cas: { ca: CertificateAuthority; bundle: string };
  renew: () => Promise<RenewedCertificate>;
  trust: HubTrust;
  sessions: AgentSessions;
  signal: AbortSignal;
}): Promise<void> {
  const { options, cas, trust, sessions } = parts;
  const logger = trust.logger;
  return followHubCa(client, {
    namespace: options.namespace,
    name: options.caSecret,
    intervalMs: options.caCheckIntervalMs,
    from: parts.hubCa,
    signal: parts.signal,
    logger,
    async onChange(view) {
      cas.ca = view.ca;
      cas.bundle = trustBundle(view.trust);
      await parts.renew();
      trust.update(view.trust);
      logger.info("hub CA set changed", { pins: trust.pins.join(","), signing: trust.pins[0] });
      writeClusterStatuses(client, sessions, { trust, logger });
    },
  });
}
