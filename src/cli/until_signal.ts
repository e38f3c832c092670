/**
 * Long-running commands (proxy, webhook, hub, agent) stop gracefully on SIGTERM or SIGINT. The
 * listeners stay until the stop is done: a second SIGTERM (a supervisor that signals the process
 * and its group, say) must not kill it halfway, leaving a hub's Lease behind. A second SIGINT,
 * an impatient Ctrl-C, exits at once.
 */
export function untilSignal(stop: () => Promise<void>): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let stopping = false;
    const onSignal = (signal: "SIGTERM" | "SIGINT") => () => {
      if (stopping) {
        if (signal === "SIGINT") Deno.exit(130);
        console.error("SIGTERM again: still stopping gracefully (SIGINT exits at once)");
        return;
      }
      stopping = true;
      stop().then(resolve, reject).finally(() => {
        Deno.removeSignalListener("SIGTERM", onTerm);
        Deno.removeSignalListener("SIGINT", onInt);
      });
    };
    const onTerm = onSignal("SIGTERM");
    const onInt = onSignal("SIGINT");
    Deno.addSignalListener("SIGTERM", onTerm);
    Deno.addSignalListener("SIGINT", onInt);
  });
}
