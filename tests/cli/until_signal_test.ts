/** Graceful stops survive a repeated SIGTERM; a second Ctrl-C exits at once. */
import { assertEquals, assertStringIncludes } from "../_utils/assert.ts";
import { waitFor } from "../../src/common/mod.ts";

const MODULE = new URL("../../src/cli/until_signal.ts", import.meta.url).href;

/** A child whose stop prints "stopping" and finishes when a line arrives on stdin. */
function startChild() {
  const code = `
    import { untilSignal } from ${JSON.stringify(MODULE)};
    const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream()).getReader();
    console.log("ready");
    await untilSignal(async () => {
      console.log("stopping");
      await lines.read();
      console.log("stopped");
    });
  `;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let output = "";
  const read = async (stream: ReadableStream<Uint8Array>) => {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) output += text;
  };
  const reading = Promise.all([read(child.stdout), read(child.stderr)]);
  return { child, output: () => output, reading };
}

Deno.test("a second SIGTERM during a graceful stop does not cut it short", async () => {
  const { child, output, reading } = startChild();
  await waitFor(() => output().includes("ready"), { description: "the child to start" });
  child.kill("SIGTERM");
  await waitFor(() => output().includes("stopping"), { description: "the stop to begin" });
  child.kill("SIGTERM");
  // The second signal is seen while stopping (not after the stop, which would prove nothing).
  await waitFor(() => output().includes("SIGTERM again"), { description: "the second SIGTERM" });
  // Still alive and stopping: it finishes only when told to.
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode("go\n"));
  await writer.close();
  const status = await child.status;
  await reading;
  assertEquals({ code: status.code, signal: status.signal }, { code: 0, signal: null });
  assertStringIncludes(output(), "stopped");
});

Deno.test("a second SIGINT during a graceful stop exits at once with 130", async () => {
  const { child, output, reading } = startChild();
  await waitFor(() => output().includes("ready"), { description: "the child to start" });
  child.kill("SIGINT");
  await waitFor(() => output().includes("stopping"), { description: "the stop to begin" });
  child.kill("SIGINT");
  const status = await child.status;
  await reading;
  await child.stdin.close().catch(() => {});
  assertEquals(status.code, 130);
  assertEquals(output().includes("stopped"), false);
});
