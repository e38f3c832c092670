/**
 * A CA kept in a Secret (the webhook's, the hub's), so that replicas and restarts share it. Creation is
 * race-safe (create, and on AlreadyExists read the winner's); rotation keeps the previous CA in
 * the bundle until it expires, so certificates of either CA are trusted during the switch.
 */
import { KubeApiError, type KubeClient } from "../kube/mod.ts";
import {
  type CertificateAuthority,
  createCertificateAuthority,
  loadCertificateAuthority,
  parseCertificatesPem,
} from "../pki/mod.ts";

/** Secret keys. */
const CA_CERT = "ca.crt";
const CA_KEY = "ca.key";
const PREVIOUS_CA_CERT = "previous-ca.crt";

/** Where the CA lives and how long it lasts. */
export interface CaSecretSpec {
  namespace: string;
  name: string;
  /** The common name of a CA created here (it names the CA in certificate chains). */
  commonName: string;
  /** Validity of a new CA; default 3650 days. */
  validityDays?: number;
  /** Rotate when less than this fraction of the CA's lifetime is left; default 0.2. */
  rotateAtRemaining?: number;
  now?: () => Date;
}

/** The CA to sign with, and the bundle to publish (current plus previous during a rotation). */
export interface SharedCa {
  ca: CertificateAuthority;
  bundlePem: string;
  /** Changes whenever the Secret changes; lets callers notice another replica's rotation. */
  resourceVersion: string;
}

type SecretObject = { metadata?: { resourceVersion?: string }; data?: Record<string, string> };

/** Reads the CA Secret, creating or rotating it when needed; safe with several replicas at once. */
export async function ensureSharedCa(client: KubeClient, spec: CaSecretSpec): Promise<SharedCa> {
  const path = `/api/v1/namespaces/${encodeURIComponent(spec.namespace)}/secrets`;
  const now = spec.now ?? (() => new Date());
  for (let attempt = 0; attempt < 5; attempt++) {
    const secret = await client.get<SecretObject>(`${path}/${encodeURIComponent(spec.name)}`).catch(
      (error) => {
        if (error instanceof KubeApiError && error.code === 404) return undefined;
        throw error;
      },
    );
    // A conflict means another replica created or rotated it first: read theirs.
    const settled = secret
      ? await keepOrRotate(client, path, spec, { secret, now: now() })
      : await createCaSecret(client, path, spec);
    if (settled !== "conflict") return settled;
  }
  throw new Error(
    `Cannot settle the CA Secret "${spec.namespace}/${spec.name}": it kept changing under us`,
  );
}

/** Creates the Secret with a new CA; "conflict" when another replica created it first. */
async function createCaSecret(
  client: KubeClient,
  path: string,
  spec: CaSecretSpec,
): Promise<SharedCa | "conflict"> {
  const ca = await createCertificateAuthority({
    commonName: spec.commonName,
    validityDays: spec.validityDays ?? 3650,
  });
  try {
    const created = await client.create<SecretObject>(path, secretBody(spec, ca, undefined));
    return {
      ca,
      bundlePem: ca.certificatePem,
      resourceVersion: created.metadata?.resourceVersion ?? "",
    };
  } catch (error) {
    if (error instanceof KubeApiError && error.code === 409) return "conflict";
    throw error;
  }
}

/** The Secret's CA while it has time left, else a new one replacing it (the old stays trusted). */
async function keepOrRotate(
  client: KubeClient,
  path: string,
  spec: CaSecretSpec,
  { secret, now }: { secret: SecretObject; now: Date },
): Promise<SharedCa | "conflict"> {
  const current = await loadCertificateAuthority(
    decode(secret.data?.[CA_CERT]),
    decode(secret.data?.[CA_KEY]),
  )
    .catch((error) => {
      throw new Error(
        `Secret "${spec.namespace}/${spec.name}" does not hold a usable CA: ${
          (error as Error).message
        }`,
      );
    });
  const previousPem = liveCertificate(secret.data?.[PREVIOUS_CA_CERT], now);
  if (!needsRotation(current, now, spec.rotateAtRemaining ?? 0.2)) {
    return {
      ca: current,
      bundlePem: current.certificatePem + (previousPem ?? ""),
      resourceVersion: secret.metadata?.resourceVersion ?? "",
    };
  }
  return await rotateCa(client, path, spec, { secret, current });
}

/** Replaces the CA, keeping the current one as the previous; "conflict" when another replica won. */
async function rotateCa(
  client: KubeClient,
  path: string,
  spec: CaSecretSpec,
  { secret, current }: { secret: SecretObject; current: CertificateAuthority },
): Promise<SharedCa | "conflict"> {
  const next = await createCertificateAuthority({
    commonName: spec.commonName,
    validityDays: spec.validityDays ?? 3650,
  });
  try {
    // The resourceVersion makes this a compare-and-swap: of two replicas rotating at once, one wins.
    const updated = await client.replace<SecretObject>(
      `${path}/${encodeURIComponent(spec.name)}`,
      {
        ...secretBody(spec, next, current.certificatePem),
        metadata: {
          name: spec.name,
          namespace: spec.namespace,
          resourceVersion: secret.metadata?.resourceVersion,
        },
      },
    );
    return {
      ca: next,
      bundlePem: next.certificatePem + current.certificatePem,
      resourceVersion: updated.metadata?.resourceVersion ?? "",
    };
  } catch (error) {
    if (error instanceof KubeApiError && error.code === 409) return "conflict";
    throw error;
  }
}

function needsRotation(ca: CertificateAuthority, now: Date, rotateAtRemaining: number): boolean {
  const { notBefore, notAfter } = ca.certificate;
  const lifetime = notAfter.getTime() - notBefore.getTime();
  return notAfter.getTime() - now.getTime() < lifetime * rotateAtRemaining;
}

function liveCertificate(data: string | undefined, now: Date): string | undefined {
  if (!data) return undefined;
  const pem = decode(data);
  const [certificate] = parseCertificatesPem(pem);
  return certificate && certificate.notAfter > now ? pem : undefined;
}

function secretBody(spec: CaSecretSpec, ca: CertificateAuthority, previousPem: string | undefined) {
  return {
    apiVersion: "v1",
    kind: "Secret",
    type: "Opaque",
    metadata: {
      name: spec.name,
      namespace: spec.namespace,
      labels: { "app.kubernetes.io/name": "mca", "app.kubernetes.io/component": "webhook" },
    },
    data: {
      [CA_CERT]: encode(ca.certificatePem),
      [CA_KEY]: encode(ca.privateKeyPem),
      ...(previousPem ? { [PREVIOUS_CA_CERT]: encode(previousPem) } : {}),
    },
  };
}

function encode(text: string): string {
  return btoa(text);
}

function decode(base64: string | undefined): string {
  return base64 ? atob(base64) : "";
}
