/**
 * An environment with nodes leaves nothing on the machine: after stop(), and after its test
 * process was killed with SIGKILL (the next sweep removes what the dead run left).
 */
import { assert, assertEquals } from "../_utils/assert.ts";
import {
  shimSocket,
  slotLeftovers,
  startTestEnv,
  sweepStaleTestEnvs,
} from "../../src/testenv/mod.ts";
import { waitFor } from "../../src/common/mod.ts";

const kinds = (lines: string[]) => [...new Set(lines.map((line) => line.split(" ")[0]))].sort();

/** The shim sockets of the slot's running shims (they outlive a killed containerd). */
function shimSockets(leftovers: string[]): string[] {
  return leftovers.filter((line) => line.startsWith("process "))
    .map((line) => shimSocket(line.slice(line.indexOf(": ") + 2).split("\0")))
    .filter((socket): socket is string => socket !== undefined);
}

Deno.test({
  name:
    "startTestEnv({ nodes: true }) stop() removes every process, mount, rule, interface and folder",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const env = await startTestEnv({ clusters: ["solo"], nodes: true });
    const slot = env.slot!;
    const during = slotLeftovers(slot);
    assert(kinds(during).includes("process"), "node processes run");
    assert(kinds(during).includes("iptables"), "the slot has firewall rules");
    assert(kinds(during).includes("interface") && kinds(during).includes("network"), "and a link");
    const dir = env.dir;
    await env.stop();
    assertEquals(slotLeftovers(slot), []);
    assertEquals(await Deno.stat(dir).catch(() => undefined), undefined);
  },
});

Deno.test({
  name:
    "after SIGKILL of a test run with nodes, the sweep leaves no process, mount, rule or interface",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", new URL("./_nodes_child.ts", import.meta.url).pathname],
      stdin: "null",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let printed = "";
    while (!printed.includes("\n")) {
      const chunk = await reader.read();
      assert(!chunk.done, "the child printed its slot before exiting");
      printed += chunk.value;
    }
    const { slot } = JSON.parse(printed.split("\n")[0]!) as { slot: number };
    const before = slotLeftovers(slot);
    for (
      const kind of ["process", "mount", "iptables", "interface", "network", "folder", "cgroup"]
    ) {
      assert(kinds(before).includes(kind), `a ${kind} of the running env: ${before.join("\n")}`);
    }
    const sockets = shimSockets(before);
    assert(sockets.length > 0, "a containerd shim serves the pod");
    for (const socket of sockets) {
      assert((await Deno.stat(socket)).isSocket, `the shim serves ${socket}`);
    }
    child.kill("SIGKILL");
    await child.status;
    await reader.cancel().catch(() => {});
    // The guards stop the daemons they ran; the shims and containers stay until the sweep.
    const daemon = (line: string) => /\/(kubelet|kube-proxy)\0|containerd\0--config/.test(line);
    await waitFor(() => !slotLeftovers(slot).some(daemon), {
      timeoutMs: 20_000,
      description: "the guards to stop the killed run's daemons",
    });
    const orphans = slotLeftovers(slot);
    assert(
      orphans.some((line) => line.includes("containerd-shim")),
      `the pod's shim outlives the killed run: ${orphans.join("\n")}`,
    );
    const swept = sweepStaleTestEnvs();
    assert(swept.includes(slot), `slot ${slot} was swept (swept: ${swept.join(", ")})`);
    assertEquals(slotLeftovers(slot), []);
    for (const socket of sockets) {
      assertEquals(await Deno.stat(socket).catch(() => undefined), undefined, `${socket} removed`);
    }
  },
});
