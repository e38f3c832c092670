/** Keeping local clusters up until Ctrl-C (the testenv and demo tasks). */
import { killAllTestEnvs } from "../src/testenv/mod.ts";

/**
 * On the first SIGINT or SIGTERM runs `stop` and exits 0; a second signal while stopping kills
 * the clusters at once and exits 130.
 */
export function stopOnSignal(stop: () => Promise<void>): void {
  let stopping = false;
  const onSignal = async () => {
    if (stopping) {
      killAllTestEnvs();
      Deno.exit(130);
    }
    stopping = true;
    console.error("\nStopping...");
    await stop();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
}
