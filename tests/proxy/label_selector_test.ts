import { assertEquals, assertThrows } from "../_utils/assert.ts";
import { matchesSelector, parseSelector } from "../../src/proxy/mod.ts";

const labels = { region: "east", tier: "web", "example.com/team": "a" };
const cases: [string, boolean][] = [
  ["region=east", true],
  ["region==east", true],
  ["region!=east", false],
  ["region in (east, west)", true],
  ["region notin (east)", false],
  ["missing notin (x)", true],
  ["tier", true],
  ["!tier", false],
  ["!missing", true],
  ["region=east,tier=web", true],
  ["region=east,tier=db", false],
  ["example.com/team=a", true],
  ["", true],
];

for (const [selector, expected] of cases) {
  Deno.test(`matchesSelector("${selector}") is ${expected}`, () => {
    assertEquals(matchesSelector(parseSelector(selector), labels), expected);
  });
}

Deno.test("parseSelector() rejects what Kubernetes rejects", () => {
  assertThrows(() => parseSelector("a in b"), Error, "Invalid label selector");
  assertThrows(() => parseSelector("bad key=1"), Error, "Invalid label selector");
  assertThrows(() => parseSelector("a=not valid"), Error, "Invalid label selector");
});
