import { assertEquals, assertThrows } from "../../_utils/assert.ts";
import { earliest, PositionMemory } from "../../../src/proxy/merge/position_memory.ts";
import { collectionPath, startPosition } from "../../../src/proxy/merge/start_position.ts";
import {
  compareVersions,
  encodeMergedVersion,
  laterVersion,
} from "../../../src/proxy/merge/merged_version.ts";

Deno.test("compareVersions orders decimal revisions and refuses anything else", () => {
  const cases: [string, string, number | undefined][] = [
    ["9", "10", -1],
    ["10", "9", 1],
    ["123", "123", 0],
    ["99999999999999999999", "100000000000000000000", -1], // beyond 2^53
    ["abc", "abc", 0],
    ["abc", "12", undefined],
    ["012", "12", undefined],
    ["", "1", undefined],
  ];
  for (const [a, b, expected] of cases) {
    const order = compareVersions(a, b);
    assertEquals(order === undefined ? undefined : Math.sign(order), expected, `${a} vs ${b}`);
  }
  assertEquals(laterVersion(undefined, "5"), "5");
  assertEquals(laterVersion("7", "5"), "7"); // an initial event's older object
  assertEquals(laterVersion("7", "12"), "12");
  assertEquals(laterVersion("7", "x"), "x"); // opaque: the newest event wins
  assertEquals(laterVersion("7", ""), "7");
  assertEquals(laterVersion(undefined, ""), undefined);
});

Deno.test("earliest keeps the earlier position in every cluster, or gives up", () => {
  const cases: [Record<string, string>, Record<string, string>, Record<string, string> | null][] = [
    [{ a: "5", b: "9" }, { a: "7", b: "8" }, { a: "5", b: "8" }],
    [{ a: "5" }, { a: "5" }, { a: "5" }],
    [{ a: "5" }, { a: "5", b: "1" }, null], // b seen by one, not the other
    [{ a: "x" }, { a: "y" }, null], // opaque versions cannot be ordered
    [{ a: "x" }, { a: "x" }, { a: "x" }],
  ];
  for (const [a, b, expected] of cases) {
    assertEquals(earliest(a, b), expected, JSON.stringify([a, b]));
    assertEquals(earliest(b, a), expected, JSON.stringify([b, a]));
  }
});

Deno.test("PositionMemory resolves issued versions per path, merges collisions, forgets the oldest", () => {
  const memory = new PositionMemory(3);
  memory.record("/p", "10", { east: "10", west: "4" });
  assertEquals(memory.resolve("/p", "10"), { east: "10", west: "4" });
  assertEquals(memory.resolve("/other", "10"), undefined);
  // The same version issued by another watch that had seen less of west: the earlier wins.
  memory.record("/p", "10", { east: "10", west: "3" });
  assertEquals(memory.resolve("/p", "10"), { east: "10", west: "3" });
  // West's revision 10 happens to be issued too: positions merge, nothing is lost for either.
  memory.record("/p", "10", { east: "8", west: "10" });
  assertEquals(memory.resolve("/p", "10"), { east: "8", west: "3" });
  // Positions that cannot be ordered: the version can no longer be resolved.
  memory.record("/p", "11", { east: "11", west: "5" });
  memory.record("/p", "11", { east: "11" });
  assertEquals(memory.resolve("/p", "11"), undefined);
  // Bounded: the least recently issued goes first.
  memory.record("/p", "12", { east: "12", west: "5" });
  memory.record("/p", "13", { east: "13", west: "5" });
  assertEquals(memory.size, 3);
  assertEquals(memory.resolve("/p", "10"), undefined);
  assertEquals(memory.resolve("/p", "13"), { east: "13", west: "5" });
  // A resolved position is a copy.
  memory.resolve("/p", "13")!.east = "0";
  assertEquals(memory.resolve("/p", "13"), { east: "13", west: "5" });
});

Deno.test("startPosition: merged versions carry their position, plain ones are looked up", () => {
  const memory = new PositionMemory();
  memory.record("/p", "10", { east: "10", west: "4" });
  const at = (rv: string, lowerBound = false) =>
    startPosition(new URLSearchParams(rv === "-" ? "" : `resourceVersion=${rv}`), memory, {
      scope: "/p",
      lowerBound,
    });
  assertEquals(at("-"), { type: "latest", any: false });
  assertEquals(at(""), { type: "latest", any: false });
  assertEquals(at("0"), { type: "latest", any: true });
  assertEquals(at(encodeMergedVersion({ east: "3" })), { type: "at", versions: { east: "3" } });
  assertEquals(at("10"), { type: "at", versions: { east: "10", west: "4" } });
  // Unknown: a resumed watch must relist; a lower bound is met by the latest state.
  assertEquals(at("11").type, "expired");
  assertEquals(at("11", true), { type: "latest", any: false });
  assertThrows(() => at("mca1.!!"), Error, "damaged");
});

Deno.test("collectionPath drops the deprecated /watch/ segment, and only that", () => {
  const cases: [string, string][] = [
    ["/api/v1/watch/namespaces/ns/pods", "/api/v1/namespaces/ns/pods"],
    ["/api/v1/watch/pods", "/api/v1/pods"],
    ["/apis/apps/v1/watch/namespaces/ns/deployments", "/apis/apps/v1/namespaces/ns/deployments"],
    ["/api/v1/namespaces/watch/pods", "/api/v1/namespaces/watch/pods"], // a namespace named watch
    ["/api/v1/namespaces/ns/pods", "/api/v1/namespaces/ns/pods"],
  ];
  for (const [path, expected] of cases) assertEquals(collectionPath(path), expected, path);
});
