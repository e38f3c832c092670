/**
 * What a merged read asks its clusters for (pure). The merge works on JSON, in every form
 * kube-apiserver serves it: objects and lists, PartialObjectMetadata(List) and Table (with
 * `as=`, `g=`, `v=`), so the client's JSON media ranges go to the clusters as they are and the
 * clusters negotiate as they would for the client. Ranges for Kubernetes' other encodings
 * (protobuf, CBOR, YAML) become the same range in JSON: the answer says `application/json`, which
 * client-go decodes whatever it preferred (as it does for custom resources, which have no
 * protobuf). A client that accepts nothing of the kind gets 406, as from kube-apiserver.
 */

/** The Accept header to send to every cluster, or why the client cannot be answered. */
export type MergedAccept =
  | { type: "accept"; accept: string; table: boolean }
  | { type: "not-acceptable"; message: string };

const JSON_TYPE = "application/json";
/** Kubernetes' other encodings: answered in JSON instead. */
const OTHER_ENCODINGS = new Set([
  "application/vnd.kubernetes.protobuf",
  "application/cbor",
  "application/yaml",
]);
const WILDCARDS = new Set(["*/*", "application/*"]);

/** Negotiates the representation a merged read asks its clusters for. */
export function mergedAccept(header: string | string[] | undefined): MergedAccept {
  const text = (Array.isArray(header) ? header.join(",") : header ?? "").trim();
  if (!text) return { type: "accept", accept: JSON_TYPE, table: false };
  const ranges: string[] = [];
  for (const range of text.split(",")) {
    const [type = "", ...params] = range.split(";").map((part) => part.trim());
    const lower = type.toLowerCase();
    let kept: string | undefined;
    if (lower === JSON_TYPE || OTHER_ENCODINGS.has(lower)) {
      kept = [JSON_TYPE, ...params.filter((param) => param !== "")].join(";");
    } else if (WILDCARDS.has(lower)) {
      // Only the preference of a wildcard carries over; conversions need a named type.
      kept = [JSON_TYPE, ...params.filter((param) => /^q=/i.test(param))].join(";");
    }
    if (kept && !ranges.includes(kept)) ranges.push(kept);
  }
  if (ranges.length === 0) {
    return {
      type: "not-acceptable",
      message: `A merged read answers only in JSON (application/json, with as=Table or ` +
        `as=PartialObjectMetadata), protobuf and YAML clients included; "${text}" accepts none`,
    };
  }
  return {
    type: "accept",
    accept: ranges.join(","),
    table: ranges.some((range) => /;\s*as=Table(;|$)/i.test(range)),
  };
}
