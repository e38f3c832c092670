import { jsonErrorOffset } from "../../src/inject/_json_error_position.ts";
import { assertEquals } from "../_utils/assert.ts";

Deno.test("jsonErrorOffset points at the first character that breaks the JSON", () => {
  const cases: [string, number][] = [
    ['{"a":[1,2,{"b":null}],"c":"x"}', 30], // valid: the text's length
    ['{"a": }', 6],
    ["[1,2,]", 5],
    ['{"a":1,}', 7],
    ['"abc', 4], // ends early
    ["[true, fals]", 7],
    ['{"a" 1}', 5],
    ["01", 1],
    ['"a\u0001"', 2],
    ["  [ ]  x", 7],
  ];
  for (const [text, offset] of cases) assertEquals(jsonErrorOffset(text), offset, text);
});
