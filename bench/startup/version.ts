// `mca version` as a long-lived process would be after start-up: runs the command, then idles.
import { buildProgram } from "../../main.ts";
import { runProgram } from "../../src/cli/mod.ts";

const io = { stdout: () => {}, stderr: () => {} };
await runProgram(buildProgram(io), ["version"], io);
console.log("ready");
for await (const _ of Deno.stdin.readable) { /* idle */ }
