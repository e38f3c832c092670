/** The agent's own Secret on the member as the store of the hub CAs it learned. */
import type { KubeClient } from "../kube/mod.ts";
import type { LearnedTrust, TrustStore } from "./agent_trust.ts";

/** Secret keys of the learned set. */
export const LEARNED_TRUST_KEYS = {
  bundle: "hub-trust.crt",
  basisPin: "hub-trust-basis-pin",
} as const;

/** A store in `namespace/name`; the agent needs get and patch on that one Secret. */
export function secretTrustStore(
  client: KubeClient,
  { namespace, name }: { namespace: string; name: string },
): TrustStore {
  const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${
    encodeURIComponent(name)
  }`;
  return {
    async read() {
      const secret = await client.get<{ data?: Record<string, string> }>(path).catch((error) => {
        throw new Error(
          `Cannot read --hub-trust-secret "${namespace}/${name}": ${(error as Error).message}`,
        );
      });
      const bundle = secret.data?.[LEARNED_TRUST_KEYS.bundle];
      const basisPin = secret.data?.[LEARNED_TRUST_KEYS.basisPin];
      return bundle && basisPin ? { bundlePem: atob(bundle), basisPin: atob(basisPin) } : undefined;
    },
    async write(learned: LearnedTrust) {
      await client.patch(path, {
        data: {
          [LEARNED_TRUST_KEYS.bundle]: btoa(learned.bundlePem),
          [LEARNED_TRUST_KEYS.basisPin]: btoa(learned.basisPin),
        },
      }, "merge");
    },
  };
}
