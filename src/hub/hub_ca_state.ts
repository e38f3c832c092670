/**
 * The hub CA Secret during a rollover (pure): the current CA (signs the serving certificate),
 * the next one (prepared, trusted by agents but not yet used) and the previous one (replaced,
 * still trusted until the rollover finishes). The phases move the Secret one step at a time:
 *
 *   idle ──prepare──▶ prepared ──switch──▶ switched ──finish──▶ idle
 *   {current}        {current, next}      {current, previous}   {current}
 */

/** Secret keys; ca.crt and ca.key are what the hub has always kept. */
export const HUB_CA_KEYS = {
  cert: "ca.crt",
  key: "ca.key",
  nextCert: "next-ca.crt",
  nextKey: "next-ca.key",
  previousCert: "previous-ca.crt",
  /** Every CA trusted now, for clients of the hub (kubeconfigs, sidecars): refreshed each phase. */
  bundle: "ca-bundle.crt",
} as const;

/** A CA as PEM text. */
export interface CaPem {
  certPem: string;
  keyPem: string;
}

/** The CAs of the hub's Secret. */
export interface HubCaState {
  current: CaPem;
  next?: CaPem;
  previousCertPem?: string;
}

/** Where a rollover stands. */
export type RolloverStage = "idle" | "prepared" | "switched";

/** A step of the rollover, as `mca hub ca rotate --phase` names it. */
export type RolloverPhase = "prepare" | "switch" | "finish";

/** The phases, in order. */
export const ROLLOVER_PHASES: readonly RolloverPhase[] = ["prepare", "switch", "finish"];

/** Reads the Secret's data (base64 values); throws when the current CA is missing. */
export function readHubCaState(
  data: Record<string, string> | undefined,
  secretName: string,
): HubCaState {
  const text = (key: string) => data?.[key] ? atob(data[key]!) : "";
  const current = { certPem: text(HUB_CA_KEYS.cert), keyPem: text(HUB_CA_KEYS.key) };
  if (!current.certPem || !current.keyPem) {
    throw new Error(`Secret "${secretName}" holds no hub CA (ca.crt and ca.key)`);
  }
  const next = { certPem: text(HUB_CA_KEYS.nextCert), keyPem: text(HUB_CA_KEYS.nextKey) };
  const previousCertPem = text(HUB_CA_KEYS.previousCert);
  return {
    current,
    ...(next.certPem && next.keyPem ? { next } : {}),
    ...(previousCertPem ? { previousCertPem } : {}),
  };
}

/** The stage of a state. */
export function rolloverStage(state: HubCaState): RolloverStage {
  return state.next ? "prepared" : state.previousCertPem ? "switched" : "idle";
}

/** The CA certificates agents and clients trust in this state: current first. */
export function trustedCaPems(state: HubCaState): string[] {
  return [
    state.current.certPem,
    ...(state.next ? [state.next.certPem] : []),
    ...(state.previousCertPem ? [state.previousCertPem] : []),
  ];
}

/**
 * The state after a phase; throws a message saying what to do when the phase does not follow
 * the current stage. `nextCa` is the CA that `prepare` adds.
 */
export function applyRolloverPhase(
  state: HubCaState,
  phase: RolloverPhase,
  nextCa?: CaPem,
): HubCaState {
  const stage = rolloverStage(state);
  const expected: Record<RolloverPhase, RolloverStage> = {
    prepare: "idle",
    switch: "prepared",
    finish: "switched",
  };
  if (stage !== expected[phase]) {
    const hint: Record<RolloverStage, string> = {
      idle: 'no rollover is under way: start with "prepare"',
      prepared: 'a next CA is prepared: "switch" to it once every agent holds its pin',
      switched: 'the hub serves with the new CA: "finish" to drop the previous one',
    };
    throw new Error(`Cannot run phase "${phase}": ${hint[stage]}`);
  }
  if (phase === "prepare") {
    if (!nextCa) throw new Error('Phase "prepare" needs the next CA');
    return { current: state.current, next: nextCa };
  }
  if (phase === "switch") {
    return { current: state.next!, previousCertPem: state.current.certPem };
  }
  return { current: state.current };
}

/** The Secret's data (base64) for a state; keys of other stages are absent. */
export function hubCaSecretData(state: HubCaState): Record<string, string> {
  const data: Record<string, string> = {
    [HUB_CA_KEYS.cert]: btoa(state.current.certPem),
    [HUB_CA_KEYS.key]: btoa(state.current.keyPem),
    [HUB_CA_KEYS.bundle]: btoa(trustedCaPems(state).join("")),
  };
  if (state.next) {
    data[HUB_CA_KEYS.nextCert] = btoa(state.next.certPem);
    data[HUB_CA_KEYS.nextKey] = btoa(state.next.keyPem);
  }
  if (state.previousCertPem) data[HUB_CA_KEYS.previousCert] = btoa(state.previousCertPem);
  return data;
}

/** One replica's entry in a Cluster's status.hubCaTrust. */
export interface ReplicaCaTrust {
  pins?: string[];
  agentsHolding?: number;
  agents?: number;
  lastUpdate?: string;
}

/** Entries older than this are of replicas gone (hubs rewrite theirs every 30 s). */
export const CA_TRUST_STALE_MS = 120_000;

/**
 * Why a Cluster's agents are not ready for a switch, or undefined when they are: every replica
 * that wrote lately must want exactly `wanted` and have all its agents holding it, and at least
 * one agent must be connected (an absent member would be cut off when it comes back).
 */
export function switchBlocker(
  byReplica: Record<string, ReplicaCaTrust> | undefined,
  wanted: readonly string[],
  now: Date,
): string | undefined {
  const fresh = Object.values(byReplica ?? {}).filter((entry) =>
    now.getTime() - Date.parse(entry.lastUpdate ?? "") < CA_TRUST_STALE_MS
  );
  let agents = 0;
  for (const entry of fresh) {
    const pins = entry.pins ?? [];
    if (pins.length !== wanted.length || !wanted.every((pin) => pins.includes(pin))) {
      return "a hub replica has not taken up the CA set yet";
    }
    if ((entry.agentsHolding ?? 0) !== (entry.agents ?? 0)) {
      return `${entry.agentsHolding ?? 0} of ${entry.agents} agents hold every pin`;
    }
    agents += entry.agents ?? 0;
  }
  return agents > 0 ? undefined : "no agent is connected";
}

/**
 * Why the previous CA cannot be dropped yet, or undefined when it can: a replica that holds
 * agents of the Cluster must sign with `signingPin` (the first of its pins is the CA of its
 * serving certificate; it writes them only after renewing, and again whenever its agents come
 * or go). Agents that dropped the previous CA could not reconnect to a replica still serving
 * with it. An entry without agents says nothing current: it was written when they left.
 */
export function finishBlocker(
  byReplica: Record<string, ReplicaCaTrust> | undefined,
  signingPin: string,
  now: Date,
): string | undefined {
  const lagging = Object.entries(byReplica ?? {}).filter(([, entry]) =>
    now.getTime() - Date.parse(entry.lastUpdate ?? "") < CA_TRUST_STALE_MS &&
    (entry.agents ?? 0) > 0 && entry.pins?.[0] !== signingPin
  ).map(([replica]) => replica);
  return lagging.length > 0
    ? `hub replica(s) ${lagging.join(", ")} still serve with another CA`
    : undefined;
}
