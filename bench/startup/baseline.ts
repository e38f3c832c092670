// An empty Deno process: the floor for start-up time and memory.
console.log("ready");
for await (const _ of Deno.stdin.readable) { /* idle */ }
