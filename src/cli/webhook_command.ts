/** `mca webhook`: runs the admission webhook until SIGTERM or SIGINT. */
import { resolveWebhookOptions, runWebhook, type WebhookOptions } from "../webhook/mod.ts";
import { UsageError } from "./run_program.ts";
import { untilSignal } from "./until_signal.ts";

/** Resolves the flags (a bad value is a usage error), starts, and stops gracefully on a signal. */
export async function webhookCommand(options: WebhookOptions): Promise<void> {
  let resolved;
  try {
    resolved = resolveWebhookOptions(options, (name) => Deno.env.get(name));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const webhook = await runWebhook(resolved);
  await untilSignal(() => webhook.stop());
}
