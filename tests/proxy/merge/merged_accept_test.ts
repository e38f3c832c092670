import { assertEquals } from "../../_utils/assert.ts";
import { mergedAccept } from "../../../src/proxy/merge/merged_accept.ts";

const PROTOBUF = "application/vnd.kubernetes.protobuf";
const TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io";
const META = "as=PartialObjectMetadata;g=meta.k8s.io;v=v1";
const META_LIST = "as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";

// What real clients send (client-go typed and metadata clients, kubectl, curl), and what the
// clusters are asked for.
const cases: [string | undefined, string | undefined, boolean][] = [
  [undefined, "application/json", false],
  ["", "application/json", false],
  ["application/json", "application/json", false],
  [`${PROTOBUF},application/json`, "application/json", false],
  [`${PROTOBUF}, */*`, "application/json", false],
  [PROTOBUF, "application/json", false],
  ["*/*", "application/json", false],
  ["application/yaml", "application/json", false],
  ["application/cbor", "application/json", false],
  [
    `${PROTOBUF};${META_LIST},application/json;${META_LIST},application/json`,
    `application/json;${META_LIST},application/json`,
    false,
  ],
  [
    `${PROTOBUF};${META},application/json;${META},application/json`,
    `application/json;${META},application/json`,
    false,
  ],
  [
    `${TABLE},application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json`,
    `${TABLE},application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json`,
    true,
  ],
  [`application/json;q=0.9, text/html;q=1`, "application/json;q=0.9", false],
  ["text/html", undefined, false],
  ["image/png, text/plain", undefined, false],
];

for (const [accept, upstream, table] of cases) {
  Deno.test(`mergedAccept(${JSON.stringify(accept)}) asks the clusters for ${upstream ?? "nothing (406)"}`, () => {
    const negotiated = mergedAccept(accept);
    if (upstream === undefined) {
      assertEquals(negotiated.type, "not-acceptable");
      return;
    }
    assertEquals(negotiated, { type: "accept", accept: upstream, table });
  });
}
