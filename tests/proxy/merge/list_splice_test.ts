import { assertEquals, assertThrows } from "../../_utils/assert.ts";
import { joinSplicedLists, ListSplicer, spliceList } from "../../../src/proxy/merge/list_splice.ts";

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

/** Feeds `body` to a ListSplicer cut at `cuts`; returns the joined output and the envelope. */
function spliceInChunks(body: Uint8Array, cuts: number[]) {
  const splicer = new ListSplicer("east");
  const batches: Uint8Array[][] = [];
  let from = 0;
  for (const cut of [...cuts, body.length]) {
    const pieces = splicer.push(body.subarray(from, cut));
    if (pieces.length > 0) batches.push(pieces);
    from = cut;
  }
  const last = splicer.end();
  if (last.pieces.length > 0) batches.push(last.pieces);
  const text = batches.map((pieces) => pieces.map((p) => new TextDecoder().decode(p)).join(""))
    .join(",");
  return { items: JSON.parse(`[${text}]`), envelope: last.envelope, names: splicer.names };
}

Deno.test("ListSplicer gives the same items wherever the answer is cut into chunks", () => {
  const list = {
    apiVersion: "x.io/v1",
    items: [
      { metadata: { name: "a", namespace: "n", annotations: { "k": 'v "}{:,' } }, spec: [1, {}] },
      { kind: "W", metadata: {}, data: { metadata: { name: "not me" } } },
      { metadata: { name: '\u00e9\\"', annotations: {} } },
      { metadata: { labels: { name: "label" }, name: "last" } },
    ],
    kind: "WList",
    metadata: { resourceVersion: "9" },
  };
  // Spaces as a pretty-printing server would put them, to cross chunk edges too.
  const body = new TextEncoder().encode(JSON.stringify(list, null, 1));
  const whole = spliceInChunks(body, []);
  assertEquals(whole.names, ["n/a", "", '\u00e9\\"', "last"]);
  assertEquals(whole.envelope.metadata, { resourceVersion: "9" });
  for (const item of whole.items) {
    assertEquals(item.metadata.annotations["mca.k8s.io/cluster"], "east");
  }
  for (let cut = 1; cut < body.length; cut++) {
    assertEquals(spliceInChunks(body, [cut]), whole, `cut at ${cut}`);
  }
  // Many small chunks: every byte its own push.
  assertEquals(
    spliceInChunks(body, Array.from({ length: body.length - 1 }, (_, i) => i + 1)),
    whole,
  );
});

Deno.test("ListSplicer hands out items as they complete, and a large item once whole", () => {
  const big = "y".repeat(300_000);
  const body = new TextEncoder().encode(JSON.stringify({
    kind: "ConfigMapList",
    apiVersion: "v1",
    metadata: {},
    items: [{ metadata: { name: "small" } }, { metadata: { name: "big" }, data: { big } }],
  }));
  const text = (pieces: Uint8Array[]) => pieces.map((p) => new TextDecoder().decode(p)).join("");
  const splicer = new ListSplicer("west");
  const bigStart = new TextDecoder().decode(body).indexOf('{"metadata":{"name":"big"');
  const early = splicer.push(body.subarray(0, bigStart + 10));
  assertEquals(JSON.parse(text(early)), {
    metadata: { name: "small", annotations: { "mca.k8s.io/cluster": "west" } },
  });
  const late: Uint8Array[] = [];
  for (let from = bigStart + 10; from < body.length; from += 1000) {
    const pieces = splicer.push(body.subarray(from, Math.min(body.length, from + 1000)));
    if (pieces.length > 0) late.push(...pieces);
  }
  const last = splicer.end();
  assertEquals(JSON.parse(text([...late, ...last.pieces])).data.big.length, big.length);
  assertEquals(splicer.names, ["small", "big"]);
  assertEquals(last.envelope.kind, "ConfigMapList");
  assertThrows(() => new ListSplicer("x").end(), Error, "not a list");
  const status = new ListSplicer("x");
  assertThrows(
    () => status.push(new TextEncoder().encode('[{"kind":"Status"}]')),
    Error,
    "not a list",
  );
});
