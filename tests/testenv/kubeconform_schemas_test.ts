/** kubeconformSchemas and crdKubeconformSchemas: OpenAPI to kubeconform's file layout (pure). */
import { assertEquals, assertThrows } from "../_utils/assert.ts";
import {
  crdKubeconformSchemas,
  kubeconformFileName,
  kubeconformSchemas,
  kubeconformVersionFolder,
  type OpenApiV2,
} from "../../src/testenv/mod.ts";

const REF = (name: string) => ({ $ref: `#/definitions/${name}` });

/** A small OpenAPI v2 document shaped like Kubernetes' own. */
const OPEN_API: OpenApiV2 = {
  definitions: {
    "io.k8s.api.apps.v1.Deployment": {
      description: "Deployment enables declarative updates.",
      type: "object",
      properties: {
        apiVersion: { type: "string" },
        kind: { type: "string" },
        spec: REF("io.k8s.api.apps.v1.DeploymentSpec"),
      },
      "x-kubernetes-group-version-kind": [{ group: "apps", version: "v1", kind: "Deployment" }],
    },
    "io.k8s.api.apps.v1.DeploymentSpec": {
      type: "object",
      required: ["selector"],
      properties: {
        replicas: { type: "integer", format: "int32", description: "Desired pods." },
        port: REF("io.k8s.apimachinery.pkg.util.intstr.IntOrString"),
        limits: {
          type: "object",
          additionalProperties: REF("io.k8s.apimachinery.pkg.api.resource.Quantity"),
        },
        selector: { type: "object", "x-kubernetes-map-type": "atomic", properties: {} },
      },
    },
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString": { type: "string", format: "int-or-string" },
    "io.k8s.apimachinery.pkg.api.resource.Quantity": { type: "string", description: "1Gi, 500m" },
    "io.k8s.api.core.v1.Unrelated": { type: "object", properties: { a: { type: "string" } } },
    "io.k8s.api.core.v1.Pod": {
      type: "object",
      properties: { kind: { type: "string" } },
      "x-kubernetes-group-version-kind": [{ group: "", version: "v1", kind: "Pod" }],
    },
    "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions": {
      type: "object",
      properties: { kind: { type: "string" } },
      "x-kubernetes-group-version-kind": [
        { group: "", version: "v1", kind: "DeleteOptions" },
        { group: "networking.k8s.io", version: "v1", kind: "DeleteOptions" },
      ],
    },
    // Recursive, like a CRD's JSONSchemaProps.
    "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps": {
      type: "object",
      properties: {
        $ref: { type: "string" },
        "x-kubernetes-preserve-unknown-fields": { type: "boolean" },
        properties: {
          type: "object",
          additionalProperties: REF(
            "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps",
          ),
        },
      },
      "x-kubernetes-group-version-kind": [
        { group: "apiextensions.k8s.io", version: "v1", kind: "Schema" },
      ],
    },
  },
};

Deno.test("kubeconformFileName() follows kubeconform's lookup: kind, first group label, version", () => {
  const table: [string, string, string, string][] = [
    ["", "v1", "Pod", "pod-v1.json"],
    ["apps", "v1", "Deployment", "deployment-apps-v1.json"],
    ["networking.k8s.io", "v1", "Ingress", "ingress-networking-v1.json"],
    ["mca.k8s.io", "v1alpha1", "Cluster", "cluster-mca-v1alpha1.json"],
    [
      "admissionregistration.k8s.io",
      "v1",
      "MutatingWebhookConfiguration",
      "mutatingwebhookconfiguration-admissionregistration-v1.json",
    ],
  ];
  for (const [group, version, kind, file] of table) {
    assertEquals(kubeconformFileName(group, version, kind), file);
  }
  assertEquals(
    kubeconformVersionFolder("v1.34.10", { strict: true }),
    "v1.34.10-standalone-strict",
  );
  assertEquals(kubeconformVersionFolder("1.34.10", { strict: false }), "v1.34.10-standalone");
});

Deno.test("kubeconformSchemas() writes one file per group, version and kind", () => {
  const files = kubeconformSchemas(OPEN_API, { strict: true });
  assertEquals([...files.keys()].sort(), [
    "deleteoptions-networking-v1.json",
    "deleteoptions-v1.json",
    "deployment-apps-v1.json",
    "pod-v1.json",
    "schema-apiextensions-v1.json",
  ]);
});

Deno.test("kubeconformSchemas() copies in the definitions a kind reaches, and only those", () => {
  const deployment = kubeconformSchemas(OPEN_API, { strict: true }).get("deployment-apps-v1.json")!;
  assertEquals(Object.keys(deployment.definitions as object).sort(), [
    "io.k8s.api.apps.v1.DeploymentSpec",
    "io.k8s.apimachinery.pkg.api.resource.Quantity",
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString",
  ]);
  assertEquals(deployment.properties, {
    apiVersion: { type: "string" },
    kind: { type: "string" },
    spec: REF("io.k8s.api.apps.v1.DeploymentSpec"),
  });
  assertEquals(
    kubeconformSchemas(OPEN_API, { strict: true }).get("pod-v1.json")!.definitions,
    undefined,
  );
});

Deno.test("kubeconformSchemas() drops descriptions and x-kubernetes keywords, keeps field names", () => {
  const files = kubeconformSchemas(OPEN_API, { strict: false });
  const deployment = files.get("deployment-apps-v1.json")!;
  assertEquals(deployment.description, undefined);
  assertEquals(deployment["x-kubernetes-group-version-kind"], undefined);
  const spec = (deployment.definitions as Record<string, Record<string, unknown>>)[
    "io.k8s.api.apps.v1.DeploymentSpec"
  ]!;
  assertEquals((spec.properties as Record<string, unknown>).replicas, {
    type: "integer",
    format: "int32",
  });
  assertEquals((spec.properties as Record<string, unknown>).selector, {
    type: "object",
    properties: {},
  });
  // Fields that look like keywords are fields of JSONSchemaProps, and stay.
  const schema = files.get("schema-apiextensions-v1.json")!;
  assertEquals(Object.keys(schema.properties as object), [
    "$ref",
    "x-kubernetes-preserve-unknown-fields",
    "properties",
  ]);
});

Deno.test("kubeconformSchemas() accepts what the API server accepts for int-or-string and quantities", () => {
  const definitions = kubeconformSchemas(OPEN_API, { strict: true }).get(
    "deployment-apps-v1.json",
  )!.definitions as Record<string, unknown>;
  assertEquals(definitions["io.k8s.apimachinery.pkg.util.intstr.IntOrString"], {
    oneOf: [{ type: "string" }, { type: "integer" }],
  });
  assertEquals(definitions["io.k8s.apimachinery.pkg.api.resource.Quantity"], {
    oneOf: [{ type: "string" }, { type: "number" }],
  });
});

Deno.test("kubeconformSchemas() refuses unknown fields only when strict", () => {
  const spec = (strict: boolean) =>
    (kubeconformSchemas(OPEN_API, { strict }).get("deployment-apps-v1.json")!.definitions as Record<
      string,
      Record<string, unknown>
    >)["io.k8s.api.apps.v1.DeploymentSpec"]!;
  assertEquals(spec(true).additionalProperties, false);
  assertEquals(spec(false).additionalProperties, undefined);
  // A map (additionalProperties given) stays a map.
  assertEquals(
    ((spec(true).properties as Record<string, Record<string, unknown>>).limits!)
      .additionalProperties,
    REF("io.k8s.apimachinery.pkg.api.resource.Quantity"),
  );
});

Deno.test("kubeconformSchemas() keeps recursive definitions as references", () => {
  const schema = kubeconformSchemas(OPEN_API, { strict: true }).get(
    "schema-apiextensions-v1.json",
  )!;
  assertEquals(Object.keys(schema.definitions as object), [
    "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps",
  ]);
});

Deno.test("kubeconformSchemas() fails on a dangling reference and on two kinds sharing a file", () => {
  assertThrows(
    () =>
      kubeconformSchemas({
        definitions: {
          "a.Thing": {
            properties: { x: REF("a.Missing") },
            "x-kubernetes-group-version-kind": [{ group: "a", version: "v1", kind: "Thing" }],
          },
        },
      }, { strict: true }),
    Error,
    `Definition "a.Thing" refers to "a.Missing", which is not defined`,
  );
  const thing = (group: string) => ({
    type: "object",
    "x-kubernetes-group-version-kind": [{ group, version: "v1", kind: "Thing" }],
  });
  assertThrows(
    () =>
      kubeconformSchemas({
        definitions: {
          "a.Thing": thing("storage.k8s.io"),
          "b.Thing": thing("storage.example.com"),
        },
      }, { strict: true }),
    Error,
    `Definitions "a.Thing" and "b.Thing" both map to the schema file "thing-storage-v1.json"`,
  );
});

Deno.test("crdKubeconformSchemas() adds the fields every object has and honours x-kubernetes keywords", () => {
  const files = crdKubeconformSchemas({
    spec: {
      group: "mca.k8s.io",
      names: { kind: "Cluster" },
      versions: [
        {
          name: "v1alpha1",
          schema: {
            openAPIV3Schema: {
              type: "object",
              properties: {
                spec: {
                  type: "object",
                  properties: {
                    port: { "x-kubernetes-int-or-string": true },
                    extra: {
                      type: "object",
                      "x-kubernetes-preserve-unknown-fields": true,
                      properties: { known: { type: "string" } },
                    },
                  },
                },
              },
            },
          },
        },
        { name: "v1alpha0", served: false, schema: { openAPIV3Schema: { type: "object" } } },
      ],
    },
  }, { strict: true });
  assertEquals([...files.keys()], ["cluster-mca-v1alpha1.json"]);
  assertEquals(files.get("cluster-mca-v1alpha1.json"), {
    type: "object",
    additionalProperties: false,
    properties: {
      apiVersion: { type: "string" },
      kind: { type: "string" },
      metadata: { type: "object" },
      spec: {
        type: "object",
        additionalProperties: false,
        properties: {
          port: { oneOf: [{ type: "string" }, { type: "integer" }] },
          extra: { type: "object", properties: { known: { type: "string" } } },
        },
      },
    },
  });
});
