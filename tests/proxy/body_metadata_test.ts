import { assertEquals, assertThrows } from "../_utils/assert.ts";
import { bodyMetadata } from "../../src/proxy/mod.ts";

const encode = (value: unknown) =>
  new TextEncoder().encode(typeof value === "string" ? value : JSON.stringify(value));

Deno.test("bodyMetadata() reads a full object and a merge patch", () => {
  const object = {
    metadata: { name: "x", labels: { region: "east" }, annotations: { note: "n" } },
  };
  assertEquals(bodyMetadata(encode(object), "application/json"), {
    readable: true,
    name: "x",
    labels: { region: "east" },
    annotations: { note: "n" },
  });
  assertEquals(
    bodyMetadata(encode({ metadata: { labels: { a: "1" } } }), "application/merge-patch+json")
      .labels,
    { a: "1" },
  );
  assertEquals(
    bodyMetadata(encode({ data: { a: "1" } }), "application/strategic-merge-patch+json").labels,
    {},
  );
});

Deno.test("bodyMetadata() reads labels set by a JSON patch, whole or key by key", () => {
  const patch = [
    { op: "add", path: "/metadata/labels", value: { region: "west" } },
    { op: "add", path: "/metadata/labels/tier", value: "web" },
    { op: "replace", path: "/metadata/annotations/example.com~1owner", value: "me" },
    { op: "remove", path: "/metadata/labels/old" },
  ];
  const result = bodyMetadata(encode(patch), "application/json-patch+json");
  assertEquals(result.labels, { region: "west", tier: "web" });
  assertEquals(result.annotations, { "example.com/owner": "me" });
});

Deno.test("bodyMetadata() reads server-side apply YAML, and cannot read protobuf", () => {
  const yaml =
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: y\n  labels:\n    region: east\n";
  assertEquals(bodyMetadata(encode(yaml), "application/apply-patch+yaml").labels, {
    region: "east",
  });
  assertEquals(
    bodyMetadata(new Uint8Array([0x6b, 0x38, 0]), "application/vnd.kubernetes.protobuf").readable,
    false,
  );
});

Deno.test("bodyMetadata() refuses a body that does not parse", () => {
  assertThrows(
    () => bodyMetadata(encode("{nope"), "application/json"),
    Error,
    "The request body is not valid JSON",
  );
});
