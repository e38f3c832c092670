/** The gate on host reads for agents' tokens: bounded at once, bounded waiting, busy beyond. */
import { assertEquals, assertRejects } from "../_utils/assert.ts";
import { HostReadGate, HostReadsBusyError } from "../../src/hub/host_read_gate.ts";

/** A read that finishes when the test says so, recording how many ran at once. */
function controlledReads() {
  let running = 0;
  let most = 0;
  const finishers: (() => void)[] = [];
  return {
    read: () =>
      new Promise<string>((resolve) => {
        running++;
        most = Math.max(most, running);
        finishers.push(() => {
          running--;
          resolve("read");
        });
      }),
    finishOne: () => finishers.shift()?.(),
    get started() {
      return finishers.length;
    },
    get most() {
      return most;
    },
  };
}

/** Lets pending promise callbacks run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

Deno.test("the gate runs at most maxInFlight reads, queues maxWaiting, refuses the rest at once", async () => {
  const gate = new HostReadGate(2, 3);
  const reads = controlledReads();
  const results = Array.from({ length: 5 }, () => gate.run(reads.read));
  await settle();
  assertEquals(reads.started, 2);
  assertEquals(gate.load, { inFlight: 2, waiting: 3 });
  await assertRejects(() => gate.run(reads.read), HostReadsBusyError, "retry in a second");

  // Each finished read hands its slot to the first waiting one.
  for (let finished = 1; finished <= 5; finished++) {
    reads.finishOne();
    await settle();
  }
  assertEquals(await Promise.all(results), ["read", "read", "read", "read", "read"]);
  assertEquals(reads.most, 2);
  assertEquals(gate.load, { inFlight: 0, waiting: 0 });
});

Deno.test("a failing read frees its slot", async () => {
  const gate = new HostReadGate(1, 0);
  await assertRejects(
    () => gate.run(() => Promise.reject(new Error("host down"))),
    Error,
    "host down",
  );
  assertEquals(await gate.run(() => Promise.resolve(7)), 7);
  assertEquals(gate.load, { inFlight: 0, waiting: 0 });
});
