import { assertEquals, assertThrows } from "../../_utils/assert.ts";
import { WatchMerger } from "../../../src/proxy/merge/watch_merger.ts";
import { LineSplitter } from "../../../src/proxy/merge/line_splitter.ts";
import { PositionMemory } from "../../../src/proxy/merge/position_memory.ts";
import { decodeMergedVersion } from "../../../src/proxy/merge/merged_version.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

function event(type: string, name: string, rv: string, extra: Record<string, unknown> = {}) {
  return JSON.stringify({
    type,
    object: {
      kind: "ConfigMap",
      apiVersion: "v1",
      metadata: { name, resourceVersion: rv },
      ...extra,
    },
  });
}

function bookmark(rv: string, ends = false) {
  return JSON.stringify({
    type: "BOOKMARK",
    object: {
      kind: "ConfigMap",
      apiVersion: "v1",
      metadata: {
        resourceVersion: rv,
        ...(ends ? { annotations: { "k8s.io/initial-events-end": "true" } } : {}),
      },
    },
  });
}

/** Feeds lines of one cluster and returns the parsed output events. */
function feed(merger: WatchMerger, cluster: string, ...lines: string[]) {
  return lines.flatMap((line) => {
    const out = merger.accept(cluster, encoder.encode(line));
    return out.bytes ? [JSON.parse(decoder.decode(out.bytes))] : [];
  });
}

Deno.test("WatchMerger keeps each object's own version and remembers the position behind it", () => {
  const positions = new PositionMemory();
  const merger = new WatchMerger({ watchList: false, scope: "/p", positions });
  merger.join("east", "100");
  merger.join("west", "50");
  const [added] = feed(merger, "east", event("ADDED", "a", "101"));
  assertEquals(added.object.metadata.resourceVersion, "101");
  assertEquals(added.object.metadata.annotations, { "mca.k8s.io/cluster": "east" });
  assertEquals(positions.resolve("/p", "101"), { east: "101", west: "50" });
  feed(merger, "west", event("MODIFIED", "b", "60"));
  assertEquals(positions.resolve("/p", "60"), { east: "101", west: "60" });
  // A bookmark carries the whole position itself.
  const [mark] = feed(merger, "west", bookmark("70"));
  assertEquals(decodeMergedVersion(mark.object.metadata.resourceVersion), {
    east: "101",
    west: "70",
  });
  assertEquals(mark.object.metadata.annotations, undefined);
});

Deno.test("WatchMerger: an initial event's older object does not move the position back", () => {
  const positions = new PositionMemory();
  const merger = new WatchMerger({ watchList: false, scope: "/p", positions });
  merger.join("east", "500"); // from the LIST asked before the watch
  merger.join("west", "40");
  feed(merger, "east", event("ADDED", "old", "12"), event("ADDED", "older", "7"));
  assertEquals(positions.resolve("/p", "7"), { east: "500", west: "40" });
  feed(merger, "east", event("ADDED", "new", "501"));
  assertEquals(merger.versions, { east: "501", west: "40" });
});

Deno.test("WatchMerger: watch-list ends its initial phase once, after every cluster's", () => {
  const positions = new PositionMemory();
  const merger = new WatchMerger({ watchList: true, scope: "/p", positions });
  merger.join("east", undefined);
  merger.join("west", undefined);
  const early = feed(merger, "east", event("ADDED", "a", "5"));
  assertEquals(early.length, 1);
  // West has said nothing yet: no position can be remembered for "5".
  assertEquals(positions.resolve("/p", "5"), undefined);
  assertEquals(feed(merger, "east", bookmark("9", true)), []);
  feed(merger, "west", event("ADDED", "b", "3"));
  const [end] = feed(merger, "west", bookmark("4", true));
  assertEquals(end.object.metadata.annotations, { "k8s.io/initial-events-end": "true" });
  assertEquals(decodeMergedVersion(end.object.metadata.resourceVersion), { east: "9", west: "4" });
  // After the end, a cluster's own end mark (a late one) is an ordinary bookmark.
  merger.join("north", "1");
  const [late] = feed(merger, "north", bookmark("2", true));
  assertEquals(late.object.metadata.annotations, {});
});

Deno.test("WatchMerger: ERROR events pass as they are and end the merged watch", () => {
  const merger = new WatchMerger({
    watchList: false,
    scope: "/p",
    positions: new PositionMemory(),
  });
  merger.join("east", "1");
  const line = '{"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired"}}';
  const out = merger.accept("east", encoder.encode(line));
  assertEquals(out.end, true);
  assertEquals(decoder.decode(out.bytes), line + "\n");
  assertThrows(() => merger.accept("east", encoder.encode("{")), Error);
});

Deno.test("WatchMerger: Table events get the Cluster column and send each set of columns once", () => {
  const merger = new WatchMerger({
    watchList: false,
    scope: "/p",
    positions: new PositionMemory(),
  });
  merger.join("east", "1");
  merger.join("west", "1");
  const table = (name: string, rv: string, headers: boolean) =>
    JSON.stringify({
      type: "ADDED",
      object: {
        kind: "Table",
        apiVersion: "meta.k8s.io/v1",
        metadata: { resourceVersion: rv },
        columnDefinitions: headers ? [{ name: "Name" }, { name: "Data" }] : null,
        rows: [{
          cells: [name, 1],
          object: { kind: "PartialObjectMetadata", metadata: { name, resourceVersion: rv } },
        }],
      },
    });
  const [east1] = feed(merger, "east", table("a", "5", true));
  assertEquals(east1.object.columnDefinitions.map((c: { name: string }) => c.name), [
    "Name",
    "Cluster",
    "Data",
  ]);
  assertEquals(east1.object.rows[0].cells, ["a", "east", 1]);
  assertEquals(east1.object.rows[0].object.metadata.annotations, { "mca.k8s.io/cluster": "east" });
  const [west1] = feed(merger, "west", table("b", "6", true));
  assertEquals(west1.object.columnDefinitions, []);
  assertEquals(west1.object.rows[0].cells, ["b", "west", 1]);
  const [east2] = feed(merger, "east", table("c", "7", false));
  assertEquals(east2.object.rows[0].cells, ["c", "east", 1]);
  assertEquals(merger.versions, { east: "7", west: "6" });
});

Deno.test("WatchMerger passes a 500 kB non-ASCII object byte for byte, cut anywhere", () => {
  const data = "Grüße, 世界! 😀 ".repeat(25_000);
  const line = event("ADDED", "big", "77", { data: { text: data } }) + "\n";
  const bytes = encoder.encode(line);
  for (const size of [1_000, 16_384, 16_385, 65_536]) {
    for (const offset of [0, 1, 2, 3]) {
      const merger = new WatchMerger({
        watchList: false,
        scope: "/p",
        positions: new PositionMemory(),
      });
      merger.join("east", "1");
      const splitter = new LineSplitter();
      const out: Uint8Array[] = [];
      const cuts = [offset];
      for (let at = offset + size; at < bytes.length; at += size) cuts.push(at);
      let from = 0;
      for (const cut of [...cuts, bytes.length]) {
        for (const piece of splitter.push(bytes.subarray(from, cut))) {
          out.push(merger.accept("east", piece).bytes!);
        }
        from = cut;
      }
      assertEquals(out.length, 1);
      const text = decoder.decode(out[0]);
      assertEquals(
        text,
        line.replace(
          '"resourceVersion":"77"}',
          '"resourceVersion":"77","annotations":{"mca.k8s.io/cluster":"east"}}',
        ),
      );
    }
  }
});
