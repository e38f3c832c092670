/**
 * Labels and annotations of the object a write request carries, whatever its form: a full
 * object (JSON or YAML), a merge or strategic-merge patch, a JSON patch, or an apply patch.
 * Pure. Kubernetes protobuf bodies are read too; anything unreadable has `readable` false and
 * routing then ignores labels.
 */
import { parse as parseYaml } from "yaml";
import { protobufMetadata } from "./_protobuf_metadata.ts";

/** What the body says about the object's metadata. */
export interface BodyMetadata {
  readable: boolean;
  /** metadata.name of a full object, when it has one. */
  name?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

const EMPTY: BodyMetadata = { readable: true, labels: {}, annotations: {} };

/** Reads labels and annotations from a request body; throws if a JSON/YAML body does not parse. */
export function bodyMetadata(body: Uint8Array, contentType: string | undefined): BodyMetadata {
  if (body.length === 0) return EMPTY;
  const type = (contentType ?? "application/json").split(";")[0]!.trim().toLowerCase();
  if (type.includes("protobuf")) {
    const metadata = protobufMetadata(body);
    return metadata
      ? { readable: true, ...metadata }
      : { readable: false, labels: {}, annotations: {} };
  }
  const text = new TextDecoder().decode(body);
  let value: unknown;
  try {
    value = type === "application/apply-patch+yaml" || type.includes("yaml")
      ? parseYaml(text)
      : JSON.parse(text);
  } catch (error) {
    throw new Error(
      `The request body is not valid ${type.includes("yaml") ? "YAML" : "JSON"}: ${
        (error as Error).message.split("\n")[0]
      }`,
    );
  }
  if (type === "application/json-patch+json") return fromJsonPatch(value);
  return fromObject(value);
}

function fromObject(value: unknown): BodyMetadata {
  const metadata =
    (value as { metadata?: { name?: unknown; labels?: unknown; annotations?: unknown } } | null)
      ?.metadata;
  return {
    readable: true,
    ...(typeof metadata?.name === "string" && metadata.name ? { name: metadata.name } : {}),
    labels: stringMap(metadata?.labels),
    annotations: stringMap(metadata?.annotations),
  };
}

/** A JSON patch sets labels by replacing the map or by adding single keys (`/metadata/labels/app`). */
function fromJsonPatch(value: unknown): BodyMetadata {
  const result: BodyMetadata = { readable: true, labels: {}, annotations: {} };
  if (!Array.isArray(value)) return result;
  for (const op of value as { op?: string; path?: string; value?: unknown }[]) {
    if ((op.op !== "add" && op.op !== "replace") || typeof op.path !== "string") continue;
    const segments = op.path.split("/").slice(1).map((s) =>
      s.replaceAll("~1", "/").replaceAll("~0", "~")
    );
    if (segments[0] !== "metadata" || (segments[1] !== "labels" && segments[1] !== "annotations")) {
      if (segments.length === 1 && segments[0] === "metadata") {
        const whole = fromObject({ metadata: op.value });
        Object.assign(result.labels, whole.labels);
        Object.assign(result.annotations, whole.annotations);
      }
      continue;
    }
    const target = segments[1] === "labels" ? result.labels : result.annotations;
    if (segments.length === 2) Object.assign(target, stringMap(op.value));
    else if (segments.length === 3 && typeof op.value === "string") target[segments[2]!] = op.value;
  }
  return result;
}

function stringMap(value: unknown): Record<string, string> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return {};
  return Object.fromEntries(
    Object.entries(value).filter(([, v]) => typeof v === "string") as [string, string][],
  );
}
