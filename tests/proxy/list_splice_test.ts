import { assertEquals, assertThrows } from "../_utils/assert.ts";
import { joinSplicedLists, spliceList } from "../../src/proxy/merge/list_splice.ts";

const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

Deno.test("spliceList marks every item's metadata, whatever it already holds", () => {
  const list = {
    kind: "ConfigMapList",
    apiVersion: "v1",
    metadata: { resourceVersion: "7" },
    items: [
      { metadata: { name: "plain", namespace: "a" }, data: { x: 'tricky "}{][ \\ value' } },
      { metadata: { name: "annotated", annotations: { keep: "me" } } },
      { metadata: { name: "empty-annotations", annotations: {} } },
      { metadata: {} },
      { data: { "metadata": "not the metadata" }, metadata: { name: "late" } },
    ],
  };
  const spliced = spliceList(bytes(list), "east");
  const joined = joinSplicedLists([spliced], { resourceVersion: "merged" });
  const parsed = JSON.parse(new TextDecoder().decode(joined));
  assertEquals(parsed.kind, "ConfigMapList");
  assertEquals(parsed.metadata, { resourceVersion: "merged" });
  const expected = structuredClone(list.items) as { metadata: Record<string, unknown> }[];
  for (const item of expected) {
    item.metadata.annotations = {
      ...(item.metadata.annotations as Record<string, string> | undefined),
      "mca.k8s.io/cluster": "east",
    };
  }
  assertEquals(parsed.items, expected);
  assertEquals(spliced.names, ["a/plain", "annotated", "empty-annotations", "", "late"]);
  assertEquals(spliced.envelope.metadata, { resourceVersion: "7" });
});

Deno.test("spliceList handles custom-resource lists (items before kind) and empty lists", () => {
  const crd = {
    apiVersion: "x.io/v1",
    items: [{ apiVersion: "x.io/v1", kind: "W", metadata: { name: "w" } }],
    kind: "WList",
    metadata: { continue: "c" },
  };
  const empty = { kind: "WList", apiVersion: "x.io/v1", metadata: {}, items: [] };
  const joined = joinSplicedLists([
    spliceList(bytes(crd), "east"),
    spliceList(bytes(empty), "west"),
    spliceList(bytes(crd), "west"),
  ], {});
  const parsed = JSON.parse(new TextDecoder().decode(joined));
  assertEquals(parsed.kind, "WList");
  assertEquals(
    parsed.items.map((i: { metadata: { annotations: Record<string, string> } }) =>
      i.metadata.annotations["mca.k8s.io/cluster"]
    ),
    ["east", "west"],
  );
  assertThrows(() => spliceList(bytes({ kind: "Status" }), "east"), Error, "not a list");
});
