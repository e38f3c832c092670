/**
 * Join tokens: short-lived and single-use, created on the host by `mca agent token create` and
 * redeemed by an agent through the hub for its long-lived agent token. A token is
 * `<id>.<secret>`; the host keeps only the secret's SHA-256, the cluster and the expiry, in a
 * Secret `mca-join-<id>` (label `mca.k8s.io/join-token`) the hub finds by the id.
 */
import { KubeApiError, type KubeClient } from "../kube/mod.ts";
import { hashToken } from "../tunnel/mod.ts";
import { sameInConstantTime } from "../common/constant_time.ts";

/** The label that marks join token Secrets. */
export const JOIN_TOKEN_LABEL = "mca.k8s.io/join-token";

const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
const ID_LENGTH = 10;
const SECRET_LENGTH = 32;
const TOKEN_PATTERN = new RegExp(`^([a-z0-9]{${ID_LENGTH}})\\.([a-z0-9]{${SECRET_LENGTH}})$`);

/** A join token's parts. */
export interface JoinToken {
  id: string;
  secret: string;
}

/** The Secret data of a join token on the host. */
export interface JoinRecord {
  cluster: string;
  secretSha256: string;
  expiresAt: Date;
  usedAt?: Date;
}

/** Why a join token is refused. */
export type JoinRefusal = "malformed" | "unknown" | "wrong" | "used" | "expired" | "other-cluster";

/** The Secret name of a join token. */
export function joinTokenSecretName(id: string): string {
  return `mca-join-${id}`;
}

/** A new random join token (uniform over the alphabet: rejection sampling). */
export function newJoinToken(random: (n: number) => Uint8Array = randomBytes): JoinToken {
  const pick = (length: number) => {
    let out = "";
    while (out.length < length) {
      for (const byte of random(length)) {
        // 252 = 7 × 36: bytes above it would favour the first letters.
        if (byte < 252 && out.length < length) out += ALPHABET[byte % 36];
      }
    }
    return out;
  };
  return { id: pick(ID_LENGTH), secret: pick(SECRET_LENGTH) };
}

function randomBytes(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}

/** The printed form `<id>.<secret>`. */
export function formatJoinToken(token: JoinToken): string {
  return `${token.id}.${token.secret}`;
}

/** Parses `<id>.<secret>`; undefined when the text has another shape. */
export function parseJoinToken(text: string): JoinToken | undefined {
  const match = TOKEN_PATTERN.exec(text.trim());
  return match ? { id: match[1]!, secret: match[2]! } : undefined;
}

/** Reads a join Secret's data (base64 values); undefined when a field is missing. */
export function readJoinRecord(data: Record<string, string> | undefined): JoinRecord | undefined {
  const field = (key: string) => data?.[key] ? atob(data[key]) : undefined;
  const cluster = field("cluster");
  const secretSha256 = field("token-sha256");
  const expires = field("expires-at");
  if (!cluster || !secretSha256 || !expires) return undefined;
  const used = field("used-at");
  return {
    cluster,
    secretSha256,
    expiresAt: new Date(expires),
    ...(used ? { usedAt: new Date(used) } : {}),
  };
}

/** Whether a presented join token may be redeemed for a cluster now (pure). */
export function judgeJoin(
  record: JoinRecord,
  presented: { secretSha256: string; cluster: string; now: Date },
): JoinRefusal | undefined {
  // The secret first: whoever knows only the id learns nothing about the token's state.
  if (!sameInConstantTime(presented.secretSha256, record.secretSha256)) return "wrong";
  if (record.usedAt) return "used";
  if (!(presented.now < record.expiresAt)) return "expired";
  if (presented.cluster !== record.cluster) return "other-cluster";
  return undefined;
}

/** The message an agent gets for a refusal (it names what to do, never the token). */
export function joinRefusalMessage(refusal: JoinRefusal, cluster: string): string {
  const create = `create a new one on the host with: mca agent token create --cluster ${cluster}`;
  switch (refusal) {
    case "malformed":
      return `The join token is malformed (expected <id>.<secret>): ${create}`;
    case "unknown":
    case "wrong":
      return `The join token is not known to the hub: ${create}`;
    case "used":
      return `The join token was already used: ${create}`;
    case "expired":
      return `The join token expired: ${create}`;
    case "other-cluster":
      return `The join token was created for another cluster than "${cluster}": ${create}`;
  }
}

/** The join Secret on the host (only hashes; pure). */
export function joinTokenSecret(
  namespace: string,
  token: JoinToken,
  { cluster, secretSha256, expiresAt }: Omit<JoinRecord, "usedAt">,
): Record<string, unknown> {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name: joinTokenSecretName(token.id),
      namespace,
      labels: { [JOIN_TOKEN_LABEL]: "true", "mca.k8s.io/cluster": cluster },
    },
    type: "Opaque",
    stringData: {
      cluster,
      "token-sha256": secretSha256,
      "expires-at": expiresAt.toISOString(),
    },
  };
}

/** Creates a join token for a cluster on the host; returns it (the only time it is seen). */
export async function createJoinToken(
  host: KubeClient,
  namespace: string,
  options: { cluster: string; ttlMs: number; now?: Date },
): Promise<{ token: string; expiresAt: Date }> {
  const now = options.now ?? new Date();
  const token = newJoinToken();
  const expiresAt = new Date(now.getTime() + options.ttlMs);
  await host.create(
    `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets`,
    joinTokenSecret(namespace, token, {
      cluster: options.cluster,
      secretSha256: await hashToken(token.secret),
      expiresAt,
    }),
  );
  await deleteSpentJoinTokens(host, namespace, now);
  return { token: formatJoinToken(token), expiresAt };
}

/** The names of a cluster's join Secrets (used and expired ones too), by their recorded cluster. */
export async function joinTokenSecretNames(
  host: KubeClient,
  namespace: string,
  cluster: string,
): Promise<string[]> {
  const list = await host.list<{ metadata: { name: string }; data?: Record<string, string> }>(
    `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets`,
    { labelSelector: JOIN_TOKEN_LABEL },
  );
  // The recorded cluster, as the hub reads it at a join, not the label anyone may edit.
  return list.items.filter((secret) => readJoinRecord(secret.data)?.cluster === cluster)
    .map((secret) => secret.metadata.name);
}

/** Deletes join Secrets that expired more than a day ago (used ones included). */
async function deleteSpentJoinTokens(host: KubeClient, namespace: string, now: Date) {
  const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets`;
  const list = await host.list<{ metadata: { name: string }; data?: Record<string, string> }>(
    path,
    { labelSelector: JOIN_TOKEN_LABEL },
  );
  for (const secret of list.items) {
    const record = readJoinRecord(secret.data);
    if (record && record.expiresAt.getTime() < now.getTime() - 86_400_000) {
      await host.delete(`${path}/${secret.metadata.name}`).catch(() => {});
    }
  }
}

/**
 * Redeems a join token once: the Secret is marked used with an update that carries the
 * resourceVersion read, so of two agents racing with one token exactly one wins (409 for the
 * other). Returns the refusal, or undefined when the caller may register the cluster.
 */
export async function redeemJoinToken(
  host: KubeClient,
  namespace: string,
  presented: { token: string; cluster: string; now?: Date },
): Promise<JoinRefusal | undefined> {
  const token = parseJoinToken(presented.token);
  if (!token) return "malformed";
  const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${
    joinTokenSecretName(token.id)
  }`;
  const secret = await host.get<
    { metadata: Record<string, unknown>; data?: Record<string, string> }
  >(path).catch((error) => {
    if (error instanceof KubeApiError && error.code === 404) return undefined;
    throw error;
  });
  const record = readJoinRecord(secret?.data);
  if (!secret || !record) return "unknown";
  const now = presented.now ?? new Date();
  const refusal = judgeJoin(record, {
    secretSha256: await hashToken(token.secret),
    cluster: presented.cluster,
    now,
  });
  if (refusal) return refusal;
  const used = { ...secret, data: { ...secret.data, "used-at": btoa(now.toISOString()) } };
  // metadata.resourceVersion is the one read: a concurrent redemption makes this a 409.
  return await host.replace(path, used).then(() => undefined, (error) => {
    if (error instanceof KubeApiError && error.code === 409) return "used" as const;
    throw error;
  });
}
