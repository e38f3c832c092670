import { assertEquals } from "../_utils/assert.ts";
import { sameInConstantTime } from "../../src/common/constant_time.ts";

Deno.test("the per-pod token compare: only the exact token matches", () => {
  const expected = "Bearer 0123456789abcdef";
  assertEquals(sameInConstantTime("Bearer 0123456789abcdef", expected), true);
  for (
    const given of [
      "",
      "Bearer 0123456789abcdee", // same length, last character differs
      "bearer 0123456789abcdef", // case matters
      "Bearer 0123456789abcde", // a prefix
      "Bearer 0123456789abcdef0", // longer
      "Bearer 0123456789abcdef\0",
    ]
  ) {
    assertEquals(sameInConstantTime(given, expected), false, JSON.stringify(given));
  }
});
