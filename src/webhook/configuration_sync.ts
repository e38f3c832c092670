/** Keeping the MutatingWebhookConfiguration right: created if missing, caBundle repaired when reset (by watch). */
import { KubeApiError, type KubeClient } from "../kube/mod.ts";
import type { Logger } from "../log/mod.ts";
import { deepEqual } from "../inject/mod.ts";
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from "./webhook_configuration.ts";

const PATH = "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations";

type Webhook = { name: string; clientConfig?: { caBundle?: string } } & Record<string, unknown>;
type Configuration = {
  metadata: { name: string; resourceVersion?: string; labels?: Record<string, string> };
  webhooks?: Webhook[];
};

/** What a sync did. */
export type SyncOutcome = "created" | "updated" | "repaired" | "unchanged";

/**
 * Makes the live configuration match. One the webhook created (managed-by label) is rewritten
 * whole; one installed by someone else (Helm) only gets its caBundles set, so that the two
 * owners never fight over the rules.
 */
export async function syncWebhookConfiguration(
  client: KubeClient,
  desired: Record<string, unknown>,
): Promise<SyncOutcome> {
  const wanted = desired as unknown as Configuration;
  const name = wanted.metadata.name;
  for (let attempt = 0; attempt < 5; attempt++) {
    const live = await client.get<Configuration>(`${PATH}/${name}`).catch((error) => {
      if (error instanceof KubeApiError && error.code === 404) return undefined;
      throw error;
    });
    try {
      if (!live) {
        await client.create(PATH, desired);
        return "created";
      }
      if (live.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY_VALUE) {
        if (isSubset(wanted.webhooks, live.webhooks)) return "unchanged";
        await client.replace(`${PATH}/${name}`, {
          ...desired,
          metadata: { ...wanted.metadata, resourceVersion: live.metadata.resourceVersion },
        });
        return "updated";
      }
      const bundle = wanted.webhooks?.[0]?.clientConfig?.caBundle ?? "";
      const patch = (live.webhooks ?? []).flatMap((webhook, index) =>
        webhook.clientConfig?.caBundle === bundle ? [] : [
          // The test guards against the list changing order between our read and this write.
          { op: "test", path: `/webhooks/${index}/name`, value: webhook.name },
          { op: "add", path: `/webhooks/${index}/clientConfig/caBundle`, value: bundle },
        ]
      );
      if (patch.length === 0) return "unchanged";
      await client.patch(`${PATH}/${name}`, patch, "json");
      return "repaired";
    } catch (error) {
      // Someone else wrote in between (409 on create/replace, 422 on a failed test): read again.
      if (error instanceof KubeApiError && (error.code === 409 || error.code === 422)) continue;
      throw error;
    }
  }
  throw new Error(
    `Cannot update MutatingWebhookConfiguration "${name}": it kept changing under us`,
  );
}

/**
 * Watches the configuration and syncs it after every change (a reset caBundle, a deletion);
 * re-lists after expiry and backs off on errors. Runs until the signal aborts.
 */
export async function keepWebhookConfiguration(
  client: KubeClient,
  desired: () => Record<string, unknown>,
  options: { logger: Logger; signal: AbortSignal; onSynced?: (outcome: SyncOutcome) => void },
): Promise<void> {
  const name = (desired() as unknown as Configuration).metadata.name;
  const fieldSelector = `metadata.name=${name}`;
  let backoffMs = 500;
  while (!options.signal.aborted) {
    try {
      const outcome = await syncWebhookConfiguration(client, desired());
      options.onSynced?.(outcome);
      if (outcome !== "unchanged") {
        options.logger.info("webhook configuration synced", { name, outcome });
      }
      const list = await client.list(PATH, { fieldSelector });
      let resourceVersion = list.metadata.resourceVersion;
      for await (
        const event of client.watch<Configuration>(PATH, {
          fieldSelector,
          ...(resourceVersion ? { resourceVersion } : {}),
          allowWatchBookmarks: true,
          timeoutSeconds: 300,
          signal: options.signal,
        })
      ) {
        resourceVersion = event.object.metadata?.resourceVersion ?? resourceVersion;
        if (event.type === "BOOKMARK") continue;
        const outcome = await syncWebhookConfiguration(client, desired());
        options.onSynced?.(outcome);
        if (outcome !== "unchanged") {
          options.logger.warn("webhook configuration was changed by someone else; repaired", {
            name,
            outcome,
          });
        }
      }
      backoffMs = 500;
    } catch (error) {
      if (options.signal.aborted) return;
      options.logger.warn("watching the webhook configuration failed; retrying", {
        name,
        error: (error as Error).message,
        retryInMs: backoffMs,
      });
      await abortableDelay(backoffMs, options.signal);
      backoffMs = Math.min(backoffMs * 2, 30_000);
    }
  }
}

/** True when every field of `wanted` equals the same field of `actual` (the server adds defaults). */
function isSubset(wanted: unknown, actual: unknown): boolean {
  if (Array.isArray(wanted)) {
    return Array.isArray(actual) && wanted.length === actual.length &&
      wanted.every((w, i) => isSubset(w, actual[i]));
  }
  if (typeof wanted === "object" && wanted !== null) {
    return typeof actual === "object" && actual !== null &&
      Object.entries(wanted).every(([key, value]) =>
        isSubset(value, (actual as Record<string, unknown>)[key])
      );
  }
  return deepEqual(wanted, actual);
}

function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}
