/**
 * `mca hub ca rotate --phase …`: moves the hub CA Secret one rollover step (hub_ca_state.ts), as
 * a compare-and-swap on its resourceVersion so that two operators cannot interleave. The
 * switch waits for the Clusters' status to show that every connected agent holds the next pin,
 * the finish for it to show every replica serving with the new CA.
 */
import { KubeApiError, type KubeClient } from "../kube/mod.ts";
import { computeCaPin, createCertificateAuthority, trustPins, trustSetOf } from "../pki/mod.ts";
import {
  applyRolloverPhase,
  finishBlocker,
  hubCaSecretData,
  type HubCaState,
  readHubCaState,
  type ReplicaCaTrust,
  type RolloverPhase,
  type RolloverStage,
  rolloverStage,
  switchBlocker,
  trustedCaPems,
} from "./hub_ca_state.ts";

/** What a phase needs. */
export interface RotateHubCaOptions {
  namespace: string;
  secretName: string;
  phase: RolloverPhase;
  /**
   * Switch even when some Cluster's agents do not hold the next pin (they will be cut off);
   * finish even when a replica still serves with the previous CA.
   */
  force?: boolean;
  validityDays?: number;
}

/** What a phase did: the stage reached and the pins trusted now. */
export interface RotateHubCaResult {
  stage: RolloverStage;
  pins: string[];
  /** Clusters that held the phase back (only with `force`): agents or replicas behind. */
  lagging: string[];
}

type SecretObject = { metadata?: { resourceVersion?: string }; data?: Record<string, string> };
type ClusterObject = {
  metadata?: { name?: string };
  status?: { hubCaTrust?: Record<string, ReplicaCaTrust> };
};

/** Runs one phase on the hub CA Secret; throws a message saying what to do when it cannot. */
export async function rotateHubCa(
  client: KubeClient,
  options: RotateHubCaOptions,
): Promise<RotateHubCaResult> {
  const path = `/api/v1/namespaces/${encodeURIComponent(options.namespace)}/secrets/${
    encodeURIComponent(options.secretName)
  }`;
  const secret = await client.get<SecretObject>(path).catch((error) => {
    if (error instanceof KubeApiError && error.code === 404) {
      throw new Error(
        `The hub CA Secret "${options.secretName}" was not found in namespace "${options.namespace}": check --namespace and --ca-secret`,
      );
    }
    throw error;
  });
  const state = readHubCaState(secret.data, options.secretName);
  const lagging = await clustersHoldingBack(client, state, options);
  const nextCa = options.phase === "prepare"
    ? await createCertificateAuthority({
      commonName: `mca-hub-ca-${Date.now().toString(36)}`,
      validityDays: options.validityDays ?? 3650,
    })
    : undefined;
  const next = applyRolloverPhase(
    state,
    options.phase,
    nextCa ? { certPem: nextCa.certificatePem, keyPem: nextCa.privateKeyPem } : undefined,
  );
  try {
    await client.replace(path, {
      apiVersion: "v1",
      kind: "Secret",
      type: "Opaque",
      ...secret,
      data: hubCaSecretData(next),
    });
  } catch (error) {
    if (error instanceof KubeApiError && error.code === 409) {
      throw new Error(
        `The hub CA Secret "${options.secretName}" changed while this phase ran: run it again`,
      );
    }
    throw error;
  }
  const pins = trustPins(await trustSetOf(trustedCaPems(next).join("")));
  return { stage: rolloverStage(next), pins, lagging };
}

/**
 * The Clusters whose status holds the phase back (switch: agents without the next pin; finish:
 * replicas still serving with the previous CA); throws unless `force`.
 */
async function clustersHoldingBack(
  client: KubeClient,
  state: HubCaState,
  options: RotateHubCaOptions,
): Promise<string[]> {
  const see = 'see status.hubCaTrust of "kubectl get clusters -o yaml"';
  let lagging: string[] = [];
  let refusal = "";
  if (options.phase === "switch") {
    const wanted = trustPins(await trustSetOf(trustedCaPems(state).join("")));
    lagging = await clustersBlocking(client, (trust, now) => switchBlocker(trust, wanted, now));
    refusal = `Cannot switch yet: not every agent holds the next CA's pin: ${
      lagging.join(", ")
    } (${see}); wait, or pass --force to cut them off`;
  } else if (options.phase === "finish") {
    const signing = await computeCaPin(state.current.certPem);
    lagging = await clustersBlocking(client, (trust, now) => finishBlocker(trust, signing, now));
    refusal = `Cannot finish yet: not every hub replica serves with the new CA: ${
      lagging.join(", ")
    } (each replica follows the switch within --ca-check-interval; ${see}); wait, or pass --force`;
  }
  if (lagging.length > 0 && !options.force) throw new Error(refusal);
  return lagging;
}

/** Clusters whose status blocks a phase, each with why (`blocker` reads one Cluster's status). */
async function clustersBlocking(
  client: KubeClient,
  blocker: (trust: Record<string, ReplicaCaTrust> | undefined, now: Date) => string | undefined,
): Promise<string[]> {
  const list = await client.get<{ items?: ClusterObject[] }>("/apis/mca.k8s.io/v1alpha1/clusters");
  const now = new Date();
  return (list.items ?? []).flatMap((cluster) => {
    const why = blocker(cluster.status?.hubCaTrust, now);
    return why ? [`"${cluster.metadata?.name ?? ""}" (${why})`] : [];
  });
}
