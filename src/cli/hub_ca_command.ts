/** `mca hub ca rotate --phase prepare|switch|finish`: one step of a hub CA rollover. */
import { ROLLOVER_PHASES, type RolloverPhase, rotateHubCa } from "../hub/mod.ts";
import { HUB_DEFAULTS } from "../hub/hub_options.ts";
import { withClusterClients } from "../members/mod.ts";
import { UsageError } from "./run_program.ts";

/** What the user may pass. */
export interface HubCaRotateOptions {
  phase?: string;
  namespace?: string;
  caSecret?: string;
  force?: boolean;
  kubeconfig?: string;
  context?: string;
}

/** What each phase leaves behind, told after it ran. */
const NEXT_STEP: Record<RolloverPhase, string> = {
  prepare: "Next CA prepared: the hub tells connected agents within --ca-check-interval. " +
    'Once every Cluster\'s status.hubCaTrust shows agentsHolding == agents, run "--phase switch".',
  switch:
    "Every hub replica serves with the new CA within --ca-check-interval (agents trust both). " +
    'Then, when clients trust the new CA (ca.crt of the Secret), run "--phase finish".',
  finish: "The previous CA is no longer trusted: the rollover is complete.",
};

/** Runs one phase on the host; progress on stderr, the pins trusted now on stdout. */
export async function hubCaRotateCommand(
  options: HubCaRotateOptions,
  io: { stdout(text: string): void; stderr(text: string): void },
): Promise<void> {
  const phase = options.phase as RolloverPhase;
  if (!ROLLOVER_PHASES.includes(phase)) {
    throw new UsageError(
      `Invalid --phase "${options.phase ?? ""}": one of ${ROLLOVER_PHASES.join(", ")}`,
    );
  }
  const result = await withClusterClients(
    [{ kubeconfig: options.kubeconfig, context: options.context }],
    ([host]) =>
      rotateHubCa(host!, {
        namespace: options.namespace ?? HUB_DEFAULTS.namespace,
        secretName: options.caSecret ?? HUB_DEFAULTS.caSecret,
        phase,
        ...(options.force ? { force: true } : {}),
      }),
  );
  if (result.lagging.length > 0) {
    io.stderr(
      phase === "finish"
        ? `Forced: agents may fail to reach the replicas behind: ${result.lagging.join(", ")}\n`
        : `Forced: the agents of ${result.lagging.join(", ")} may be cut off\n`,
    );
  }
  io.stderr(`${NEXT_STEP[phase]}\n`);
  for (const pin of result.pins) io.stdout(`${pin}\n`);
}
