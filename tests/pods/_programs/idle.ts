/** Does nothing until stopped: keeps a helper container running so that tests can exec into it. */
Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
setInterval(() => {}, 1 << 30);
