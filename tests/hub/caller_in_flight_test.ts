/** Per-caller slots: a limit per caller, independent callers, a release counted once. */
import { assertEquals } from "../_utils/assert.ts";
import { CallerInFlight } from "../../src/hub/caller_in_flight.ts";

Deno.test("CallerInFlight admits up to the limit per caller and frees a slot once per release", () => {
  const callers = new CallerInFlight(2);
  const first = callers.admit("alice");
  const second = callers.admit("alice");
  assertEquals(callers.admit("alice"), undefined, "alice is at her limit");
  assertEquals(typeof callers.admit("bob"), "function", "bob is not limited by alice");
  first!();
  first!();
  assertEquals(callers.inFlight("alice"), 1, "a second release of one slot changes nothing");
  assertEquals(typeof callers.admit("alice"), "function");
  assertEquals(callers.admit("alice"), undefined);
  second!();
  assertEquals(callers.inFlight("alice"), 1);
});
