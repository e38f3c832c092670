/** `mca hub` and `mca agent`: run until SIGTERM or SIGINT (the agent drains first). */
import { type AgentOptions, resolveAgentOptions, runAgent } from "../agent/mod.ts";
import { type HubOptions, resolveHubOptions, runHub } from "../hub/mod.ts";
import { UsageError } from "./run_program.ts";
import { untilSignal } from "./until_signal.ts";

/** Runs the hub. */
export async function hubCommand(options: HubOptions): Promise<void> {
  let resolved;
  try {
    resolved = resolveHubOptions(options, (name) => Deno.env.get(name));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const hub = await runHub(resolved);
  await untilSignal(() => hub.stop());
}

/** Runs the agent; on SIGTERM it lets open requests finish (up to 30 s) before disconnecting. */
export async function agentCommand(options: AgentOptions): Promise<void> {
  let resolved;
  try {
    resolved = resolveAgentOptions(options, (name) => Deno.env.get(name));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const agent = await runAgent(resolved);
  await untilSignal(() => agent.stop());
}
