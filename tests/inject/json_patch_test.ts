import { assertEquals } from "../_utils/assert.ts";
import { applyJsonPatch, diffJson } from "../../src/inject/mod.ts";

const cases: [string, unknown, unknown, number][] = [
  ["equal values", { a: [1, { b: 2 }] }, { a: [1, { b: 2 }] }, 0],
  ["a new key", { a: 1 }, { a: 1, "b/c~d": 2 }, 1],
  ["a removed key", { a: 1, b: 2 }, { a: 1 }, 1],
  ["an item inserted at the front", { list: [{ name: "x" }, { name: "y" }] }, {
    list: [{ name: "new" }, { name: "x" }, { name: "y" }],
  }, 1],
  ["an item changed in place", { list: [{ name: "x", v: 1 }] }, { list: [{ name: "x", v: 2 }] }, 1],
  [
    "insert, change and delete together",
    {
      list: [{ name: "a", v: 1 }, { name: "gone" }, { name: "c" }],
    },
    { list: [{ name: "s" }, { name: "a", v: 2 }, { name: "c" }, { name: "d" }] },
    4,
  ],
  ["a scalar replaced by a list", { a: "x" }, { a: ["x"] }, 1],
  ["plain values in lists", { a: [1, 2, 3] }, { a: [0, 1, 3, 4] }, 3],
];

for (const [what, before, after, count] of cases) {
  Deno.test(`diffJson() on ${what} gives a patch of ${count} op(s) that turns before into after`, () => {
    const ops = diffJson(before, after);
    assertEquals(ops.length, count);
    assertEquals(applyJsonPatch(before, ops), after);
  });
}

Deno.test("diffJson() escapes keys as JSON Pointer segments", () => {
  assertEquals(diffJson({}, { "mca.k8s.io/status": "x", "a~b": 1 }), [
    { op: "add", path: "/mca.k8s.io~1status", value: "x" },
    { op: "add", path: "/a~0b", value: 1 },
  ]);
});
