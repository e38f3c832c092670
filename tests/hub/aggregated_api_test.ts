import { assert, assertEquals } from "../_utils/assert.ts";
import {
  discoveryDocument,
  isAggregatedPath,
  parseAggregatedTarget,
} from "../../src/hub/aggregated_api.ts";

const PREFIX = "/apis/proxy.mca.k8s.io/v1alpha1/clusters";

Deno.test("parseAggregatedTarget() maps clusters/<name>/proxy/<path> onto the member's path", () => {
  assertEquals(parseAggregatedTarget(`${PREFIX}/east/proxy/api/v1/pods?watch=1&limit=5`), {
    cluster: "east",
    path: "/api/v1/pods?watch=1&limit=5",
  });
  assertEquals(parseAggregatedTarget(`${PREFIX}/east/proxy`), { cluster: "east", path: "/" });
  assertEquals(parseAggregatedTarget(`${PREFIX}/east/proxy/`), { cluster: "east", path: "/" });
});

Deno.test("parseAggregatedTarget() answers undefined for what is not a member's proxy path", () => {
  for (
    const path of [
      "/apis",
      "/apis/proxy.mca.k8s.io/v1alpha1",
      `${PREFIX}`,
      `${PREFIX}/east`,
      `${PREFIX}/east/status`,
      "/apis/proxy.mca.k8s.io/v1beta1/clusters/east/proxy/api",
      "/clusters/east/api",
    ]
  ) {
    assertEquals(parseAggregatedTarget(path), undefined, path);
  }
});

Deno.test("parseAggregatedTarget() refuses escapes as the direct entrance does", () => {
  for (
    const path of [
      `${PREFIX}/east/proxy/../../west/proxy/api`,
      `${PREFIX}/east/proxy/api%2F..%2Fx`,
      `${PREFIX}/East/proxy/api`,
      `${PREFIX}/east/proxy//api`,
    ]
  ) {
    assert(parseAggregatedTarget(path) instanceof Error, path);
  }
});

Deno.test("isAggregatedPath() covers discovery, OpenAPI and the group's paths only", () => {
  for (const path of ["/apis", "/apis/proxy.mca.k8s.io", "/openapi/v2", `${PREFIX}/e/proxy`]) {
    assert(isAggregatedPath(path), path);
  }
  for (const path of ["/api", "/apis-x", "/clusters/east/apis", "/healthz"]) {
    assert(!isAggregatedPath(path), path);
  }
});

Deno.test("discoveryDocument() lists the group, its version and clusters/proxy", () => {
  const groups = JSON.parse(discoveryDocument("/apis", "application/json")!.body);
  assertEquals(groups.kind, "APIGroupList");
  assertEquals(groups.groups[0].name, "proxy.mca.k8s.io");
  assertEquals(groups.groups[0].preferredVersion.groupVersion, "proxy.mca.k8s.io/v1alpha1");
  const group = JSON.parse(discoveryDocument("/apis/proxy.mca.k8s.io", "")!.body);
  assertEquals(group.kind, "APIGroup");
  const resources = JSON.parse(discoveryDocument("/apis/proxy.mca.k8s.io/v1alpha1", "")!.body);
  assertEquals(resources.kind, "APIResourceList");
  assertEquals(resources.groupVersion, "proxy.mca.k8s.io/v1alpha1");
  assertEquals(resources.resources.map((r: { name: string }) => r.name), ["clusters/proxy"]);
  assertEquals(resources.resources[0].verbs, ["create", "delete", "get", "patch", "update"]);
  assertEquals(discoveryDocument("/apis/proxy.mca.k8s.io/v2", ""), undefined);
  assertEquals(discoveryDocument("/openapi/v3/apis/proxy.mca.k8s.io/v1alpha1", ""), undefined);
});

Deno.test("discoveryDocument() answers empty OpenAPI documents (v2, and v3 with no group versions)", () => {
  const v2 = JSON.parse(discoveryDocument("/openapi/v2", "application/json")!.body);
  assertEquals(v2.swagger, "2.0");
  assertEquals(v2.paths, {});
  assertEquals(JSON.parse(discoveryDocument("/openapi/v3", "")!.body), { paths: {} });
});

Deno.test("discoveryDocument() answers the aggregated form when the aggregator asks for it", () => {
  const accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList," +
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
  const answer = discoveryDocument("/apis", accept)!;
  assertEquals(
    answer.contentType,
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
  );
  const list = JSON.parse(answer.body);
  assertEquals(list.kind, "APIGroupDiscoveryList");
  const version = list.items[0].versions[0];
  assertEquals(version.version, "v1alpha1");
  assertEquals(version.resources[0].resource, "clusters");
  assertEquals(version.resources[0].verbs, []);
  assertEquals(version.resources[0].subresources[0].subresource, "proxy");
  // A v2beta1-only client gets the classic list.
  const beta = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList";
  assertEquals(JSON.parse(discoveryDocument("/apis", beta)!.body).kind, "APIGroupList");
});
