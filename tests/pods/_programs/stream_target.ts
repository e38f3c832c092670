/**
 * A pod for kubectl's streaming commands: serves "hello from <pod>" on port 8080
 * (port-forward), prints "tick N" every 500 ms (logs -f), and keeps a file to copy
 * (/tmp/payload.txt, for cp).
 */
const name = Deno.hostname();
Deno.writeTextFileSync("/tmp/payload.txt", `payload of ${name}\n${crypto.randomUUID()}\n`);
Deno.serve(
  { hostname: "0.0.0.0", port: 8080, onListen: () => console.log("serving on 8080") },
  () => new Response(`hello from ${name}\n`),
);
let tick = 0;
setInterval(() => console.log(`tick ${++tick}`), 500);
