/** `mca webhook`: runs the admission webhook until SIGTERM or SIGINT. */
import { resolveWebhookOptions, runWebhook, type WebhookOptions } from "../webhook/mod.ts";
import { UsageError } from "./run_program.ts";

/** Resolves the flags (a bad value is a usage error), starts, and stops gracefully on a signal. */
export async function webhookCommand(options: WebhookOptions): Promise<void> {
  let resolved;
  try {
    resolved = resolveWebhookOptions(options, (name) => Deno.env.get(name));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const webhook = await runWebhook(resolved);
  await new Promise<void>((resolve) => {
    const stop = () => {
      Deno.removeSignalListener("SIGTERM", stop);
      Deno.removeSignalListener("SIGINT", stop);
      webhook.stop().then(resolve);
    };
    Deno.addSignalListener("SIGTERM", stop);
    Deno.addSignalListener("SIGINT", stop);
  });
}
