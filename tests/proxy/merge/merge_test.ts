import { assertEquals, assertThrows } from "../../_utils/assert.ts";
import {
  decodeMergedVersion,
  encodeMergedVersion,
} from "../../../src/proxy/merge/merged_version.ts";
import { decodeContinue, encodeContinue } from "../../../src/proxy/merge/continue_token.ts";
import { combineAnswers } from "../../../src/proxy/merge/merge_objects.ts";
import { unmergeBody } from "../../../src/proxy/merge/unmerge_body.ts";

Deno.test("merged versions round-trip, do not depend on order, and refuse damage", () => {
  const a = encodeMergedVersion({ west: "9", east: "12" });
  assertEquals(a, encodeMergedVersion({ east: "12", west: "9" }));
  assertEquals(decodeMergedVersion(a), { east: "12", west: "9" });
  assertThrows(() => decodeMergedVersion("123"), Error, "not a merged resourceVersion");
  assertThrows(() => decodeMergedVersion("mca1.!!"), Error, "damaged");
  assertThrows(() => decodeMergedVersion("mca1." + btoa('[["east",12]]')), Error, "damaged");
});

Deno.test("continue tokens round-trip and are checked against the clusters", () => {
  const token = encodeContinue({ index: 1, token: "abc", versions: { east: "5" } });
  assertEquals(decodeContinue(token, 3), { index: 1, token: "abc", versions: { east: "5" } });
  // With where the first page asked the clusters to be listed (resourceVersion and match).
  const start = { versions: { east: "5", west: "9" }, match: "Exact" };
  const walk = encodeContinue({ index: 1, token: "", versions: { east: "5" }, start });
  assertEquals(decodeContinue(walk, 2), { index: 1, token: "", versions: { east: "5" }, start });
  assertThrows(() => decodeContinue(token, 1), Error, "not issued by this proxy");
  assertThrows(() => decodeContinue("eyJ2IjoxfQ", 3), Error, "not issued by this proxy");
});

Deno.test("combineAnswers merges items with their source and a merged version", () => {
  const list = combineAnswers(
    [
      { cluster: "east", body: { kind: "ConfigMapList", items: [{ metadata: { name: "a" } }] } },
      { cluster: "west", body: { kind: "ConfigMapList", items: [{ metadata: { name: "b" } }] } },
    ],
    { east: "1", west: "2" },
    "next",
  );
  assertEquals(list.kind, "ConfigMapList");
  assertEquals(list.metadata?.continue, "next");
  assertEquals(decodeMergedVersion(list.metadata!.resourceVersion!), { east: "1", west: "2" });
  assertEquals(
    (list.items as { metadata: { annotations: Record<string, string> } }[]).map((i) =>
      i.metadata.annotations["mca.k8s.io/cluster"]
    ),
    ["east", "west"],
  );
});

Deno.test("combineAnswers joins Table rows and adds a Cluster column after Name", () => {
  const table = (name: string) => ({
    kind: "Table",
    columnDefinitions: [{ name: "Name" }, { name: "Data" }],
    rows: [{ cells: [name, 1], object: { metadata: { name } } }],
  });
  const merged = combineAnswers(
    [
      { cluster: "east", body: table("a") },
      { cluster: "west", body: table("b") },
    ],
    { east: "1", west: "2" },
    undefined,
  );
  assertEquals(
    (merged.columnDefinitions as { name: string }[]).map((c) => c.name),
    ["Name", "Cluster", "Data"],
  );
  assertEquals((merged.rows as { cells: unknown[] }[]).map((r) => r.cells), [
    ["a", "east", 1],
    ["b", "west", 1],
  ]);
});

Deno.test("unmergeBody strips the source and restores the cluster's own version", () => {
  const merged = encodeMergedVersion({ east: "10", west: "20" });
  const body = new TextEncoder().encode(JSON.stringify({
    metadata: {
      name: "a",
      resourceVersion: merged,
      annotations: { "mca.k8s.io/cluster": "west", keep: "me" },
    },
  }));
  const out = JSON.parse(new TextDecoder().decode(unmergeBody(body, "application/json", "west")));
  assertEquals(out.metadata, { name: "a", resourceVersion: "20", annotations: { keep: "me" } });
  const yaml = new TextEncoder().encode("metadata: {}");
  assertEquals(unmergeBody(yaml, "application/yaml", "west"), yaml);
});
