/**
 * JSON schemas for kubeconform from Kubernetes' own OpenAPI (pure): one file per kind, named
 * the way kubeconform looks them up, so that `-schema-location <folder>` needs no download.
 *
 * Kubernetes publishes OpenAPI v2 (`api/openapi-spec/swagger.json`, also served at
 * `/openapi/v2`); kubeconform wants, per kind, a draft-4 JSON schema that stands alone. Each
 * file here is the kind's definition with the definitions it reaches copied under
 * `definitions` (the references already point at `#/definitions/<name>`, and recursive types
 * such as a CRD's JSONSchemaProps stay references instead of expanding forever).
 */

/** A schema node of OpenAPI v2 or of a CRD (structural JSON schema plus `x-kubernetes-*`). */
export type SchemaNode = { [keyword: string]: unknown };

/** The parts of a Kubernetes OpenAPI v2 document that matter here. */
export interface OpenApiV2 {
  definitions: Record<string, SchemaNode>;
}

/** Schema files by file name (e.g. `deployment-apps-v1.json`). */
export type SchemaFiles = Map<string, SchemaNode>;

/** How strictly the schemas judge manifests. */
export interface SchemaOptions {
  /**
   * Unknown fields are errors (`additionalProperties: false` on every object with properties),
   * as `kubectl --validate=strict` and kubeconform's `-strict` schemas do.
   */
  strict: boolean;
}

/** The folder kubeconform reads for a Kubernetes version when given a folder as its location. */
export function kubeconformVersionFolder(kubernetesVersion: string, options: SchemaOptions) {
  const version = kubernetesVersion.replace(/^v/, "");
  return `v${version}-standalone${options.strict ? "-strict" : ""}`;
}

/**
 * The file name kubeconform looks up for a kind: lower-case kind, the first label of the group
 * (none for the core group) and the version, e.g. `deployment-apps-v1.json`, `pod-v1.json`,
 * `ingress-networking-v1.json`.
 */
export function kubeconformFileName(group: string, version: string, kind: string): string {
  const groupPart = group === "" ? "" : `-${group.split(".")[0]!.toLowerCase()}`;
  return `${kind.toLowerCase()}${groupPart}-${version.toLowerCase()}.json`;
}

const QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity";
const GVK = "x-kubernetes-group-version-kind";
const REF_PREFIX = "#/definitions/";

/** One schema file per group, version and kind that the OpenAPI document defines. */
export function kubeconformSchemas(openApi: OpenApiV2, options: SchemaOptions): SchemaFiles {
  const converted = new Map<string, SchemaNode>();
  for (const [name, definition] of Object.entries(openApi.definitions)) {
    // Quantity is "type: string" in OpenAPI v2, yet manifests write `cpu: 1`, which the API
    // server accepts (OpenAPI v3 says so with oneOf string/number).
    converted.set(
      name,
      name === QUANTITY ? { oneOf: [{ type: "string" }, { type: "number" }] } : convertSchema(
        definition,
        options,
      ),
    );
  }
  const files: SchemaFiles = new Map();
  const origins = new Map<string, string>();
  for (const [name, definition] of Object.entries(openApi.definitions)) {
    const kinds = definition[GVK] as { group: string; version: string; kind: string }[] | undefined;
    for (const { group, version, kind } of kinds ?? []) {
      const file = kubeconformFileName(group, version, kind);
      const earlier = origins.get(file);
      if (earlier !== undefined && earlier !== name) {
        throw new Error(
          `Definitions "${earlier}" and "${name}" both map to the schema file "${file}"`,
        );
      }
      origins.set(file, name);
      files.set(file, standalone(converted.get(name)!, converted, name));
    }
  }
  return files;
}

/** A CRD's object shape: what crdKubeconformSchemas reads. */
export interface CustomResourceDefinition {
  spec: {
    group: string;
    names: { kind: string };
    versions: { name: string; served?: boolean; schema?: { openAPIV3Schema?: SchemaNode } }[];
  };
}

/** One schema file per served version of a CustomResourceDefinition. */
export function crdKubeconformSchemas(
  crd: CustomResourceDefinition,
  options: SchemaOptions,
): SchemaFiles {
  const files: SchemaFiles = new Map();
  for (const version of crd.spec.versions) {
    const schema = version.schema?.openAPIV3Schema;
    if (version.served === false || !schema) continue;
    // The API server adds these to every custom resource's schema.
    const properties = {
      apiVersion: { type: "string" },
      kind: { type: "string" },
      metadata: { type: "object" },
      ...(schema.properties as Record<string, SchemaNode> | undefined),
    };
    files.set(
      kubeconformFileName(crd.spec.group, version.name, crd.spec.names.kind),
      convertSchema({ ...schema, properties }, options),
    );
  }
  return files;
}

/**
 * One schema node for kubeconform: descriptions and `x-kubernetes-*` keywords dropped (they do
 * not validate), int-or-string made explicit, unknown fields refused when strict.
 */
function convertSchema(node: SchemaNode, options: SchemaOptions): SchemaNode {
  if (node.format === "int-or-string" || node["x-kubernetes-int-or-string"] === true) {
    return { oneOf: [{ type: "string" }, { type: "integer" }] };
  }
  const out: SchemaNode = {};
  for (const [keyword, value] of Object.entries(node)) {
    if (keyword === "description" || keyword.startsWith("x-kubernetes-")) continue;
    if (keyword === "properties") {
      out.properties = Object.fromEntries(
        Object.entries(value as Record<string, SchemaNode>).map((
          [field, schema],
        ) => [field, convertSchema(schema, options)]),
      );
    } else if (keyword === "items" || keyword === "additionalProperties" || keyword === "not") {
      out[keyword] = typeof value === "object" && value !== null
        ? convertSchema(value as SchemaNode, options)
        : value;
    } else if (keyword === "allOf" || keyword === "anyOf" || keyword === "oneOf") {
      out[keyword] = (value as SchemaNode[]).map((schema) => convertSchema(schema, options));
    } else {
      out[keyword] = value;
    }
  }
  const preservesUnknown = node["x-kubernetes-preserve-unknown-fields"] === true;
  if (options.strict && out.properties && !("additionalProperties" in out) && !preservesUnknown) {
    out.additionalProperties = false;
  }
  return out;
}

/** The root schema with every definition it reaches, directly or not, under `definitions`. */
function standalone(root: SchemaNode, all: Map<string, SchemaNode>, rootName: string): SchemaNode {
  const reached = new Map<string, SchemaNode>();
  const pending = [...references(root)];
  while (pending.length > 0) {
    const name = pending.pop()!;
    if (reached.has(name)) continue;
    const definition = all.get(name);
    if (!definition) {
      throw new Error(`Definition "${rootName}" refers to "${name}", which is not defined`);
    }
    reached.set(name, definition);
    pending.push(...references(definition));
  }
  const sorted = [...reached.keys()].sort();
  return {
    ...root,
    ...(sorted.length > 0
      ? { definitions: Object.fromEntries(sorted.map((name) => [name, reached.get(name)!])) }
      : {}),
  };
}

/** Names of the definitions a schema refers to. */
function references(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(references);
  if (typeof node !== "object" || node === null) return [];
  const found: string[] = [];
  for (const [keyword, value] of Object.entries(node)) {
    if (keyword === "$ref" && typeof value === "string" && value.startsWith(REF_PREFIX)) {
      found.push(value.slice(REF_PREFIX.length));
    } else {
      found.push(...references(value));
    }
  }
  return found;
}
