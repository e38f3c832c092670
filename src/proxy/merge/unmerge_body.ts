/**
 * The way back (pure): an object that came from a merged read is written to its own cluster
 * without the source annotation and with that cluster's own resourceVersion.
 */
import { SOURCE_ANNOTATION } from "./merge_objects.ts";
import { decodeMergedVersion, isMergedVersion } from "./merged_version.ts";

/** The body to send to `cluster`; unchanged unless it is JSON carrying merge marks. */
export function unmergeBody(
  body: Uint8Array,
  contentType: string | undefined,
  cluster: string,
): Uint8Array {
  if (!/json/.test(contentType ?? "")) return body;
  const text = new TextDecoder().decode(body);
  if (!text.includes(SOURCE_ANNOTATION) && !text.includes('"mca1.')) return body;
  let object: { metadata?: { annotations?: Record<string, string>; resourceVersion?: string } };
  try {
    object = JSON.parse(text);
  } catch {
    return body;
  }
  const metadata = object?.metadata;
  if (!metadata || typeof metadata !== "object") return body;
  if (metadata.annotations?.[SOURCE_ANNOTATION] !== undefined) {
    const { [SOURCE_ANNOTATION]: _, ...rest } = metadata.annotations;
    metadata.annotations = rest;
  }
  if (metadata.resourceVersion && isMergedVersion(metadata.resourceVersion)) {
    const own = decodeMergedVersion(metadata.resourceVersion)[cluster];
    if (own) metadata.resourceVersion = own;
    else delete metadata.resourceVersion;
  }
  return new TextEncoder().encode(JSON.stringify(object));
}
