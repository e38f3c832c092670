/** Runs every check against the host the kubeconfig names. */
import { createKubeClient, createKubeTransport, loadClientConfig } from "../kube/mod.ts";
import type { CheckFacts } from "./check_facts.ts";
import type { ResolvedCheckOptions } from "./check_options.ts";
import type { CheckResult } from "./check_result.ts";
import { probeEndpoint } from "./endpoint_probe.ts";
import { evaluateChecks } from "./evaluate.ts";
import { gatherFacts } from "./gather_facts.ts";

/** The facts and the verdicts. */
export interface CheckRun {
  facts: CheckFacts;
  results: CheckResult[];
}

/** Loads the caller's kubeconfig, gathers the facts and judges them. */
export async function runCheck(options: ResolvedCheckOptions): Promise<CheckRun> {
  const config = await loadClientConfig({
    ...(options.kubeconfig ? { kubeconfig: options.kubeconfig } : {}),
    ...(options.context ? { context: options.context } : {}),
  });
  const client = createKubeClient(createKubeTransport(config));
  try {
    const facts = await gatherFacts({ client, config }, options, {
      probe: probeEndpoint,
      now: () => new Date(),
    });
    return { facts, results: evaluateChecks(facts, options.hubUrl !== undefined) };
  } finally {
    client.transport.close();
  }
}
