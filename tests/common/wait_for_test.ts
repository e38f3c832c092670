import { assertEquals, assertRejects } from "../_utils/assert.ts";
import { waitFor } from "../../src/common/mod.ts";

Deno.test("waitFor() returns the first value that is neither undefined nor false", async () => {
  let calls = 0;
  assertEquals(await waitFor(() => ++calls >= 3 && calls, { intervalMs: 1 }), 3);
});

Deno.test("waitFor() names the last real error, not a last attempt the deadline cut short", async () => {
  let calls = 0;
  const error = await assertRejects(
    () =>
      waitFor(() => {
        calls++;
        // The first attempt fails at once; the later ones never answer before the deadline.
        if (calls === 1) throw new Error("still there: pod-a");
        return new Promise<never>(() => {});
      }, { timeoutMs: 50, intervalMs: 1, description: "the pods to be gone" }),
    Error,
  );
  assertEquals(
    error.message,
    "Timed out after 0.05 s waiting for the pods to be gone: last error: still there: pod-a",
  );
});
