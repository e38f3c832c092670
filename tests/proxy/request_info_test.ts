import { assertEquals } from "../_utils/assert.ts";
import { parseRequestInfo } from "../../src/proxy/mod.ts";
import { queryFlag } from "../../src/forward/mod.ts";

const cases: [string, string, string, Partial<ReturnType<typeof parseRequestInfo>>][] = [
  ["GET", "/api", "", { isResourceRequest: false }],
  ["GET", "/apis/apps/v1", "", { isResourceRequest: false, apiGroup: "apps" }],
  ["GET", "/version", "", { isResourceRequest: false }],
  ["GET", "/api/v1/namespaces/shop/pods", "", {
    verb: "list",
    namespace: "shop",
    resource: "pods",
  }],
  ["GET", "/api/v1/namespaces/shop/pods", "?watch=true", { verb: "watch", resource: "pods" }],
  ["GET", "/api/v1/watch/namespaces/shop/pods", "", {
    verb: "watch",
    namespace: "shop",
    resource: "pods",
  }],
  ["GET", "/api/v1/namespaces/shop/pods/web-1/log", "?follow=true", {
    verb: "get",
    name: "web-1",
    subresource: "log",
  }],
  ["POST", "/api/v1/namespaces/shop/pods/web-1/exec", "", {
    verb: "create",
    name: "web-1",
    subresource: "exec",
  }],
  ["PATCH", "/apis/apps/v1/namespaces/shop/deployments/web/scale", "", {
    verb: "patch",
    apiGroup: "apps",
    resource: "deployments",
    subresource: "scale",
  }],
  ["DELETE", "/api/v1/namespaces/shop/configmaps", "", {
    verb: "deletecollection",
    resource: "configmaps",
  }],
  ["GET", "/api/v1/namespaces/shop", "", {
    verb: "get",
    resource: "namespaces",
    name: "shop",
    namespace: "shop",
  }],
  ["PUT", "/api/v1/namespaces/shop/finalize", "", {
    verb: "update",
    resource: "namespaces",
    subresource: "finalize",
  }],
  ["GET", "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/lock", "", {
    apiGroup: "coordination.k8s.io",
    resource: "leases",
    name: "lock",
  }],
  ["GET", "/api/v1/nodes", "", { verb: "list", resource: "nodes", namespace: "" }],
  ["GET", "/api/v1/namespaces/a%2Fb/pods", "", { namespace: "a/b" }],
];

for (const [method, path, search, expected] of cases) {
  Deno.test(`parseRequestInfo() classifies ${method} ${path}${search}`, () => {
    const info = parseRequestInfo(method, path, search);
    for (const [key, value] of Object.entries(expected)) {
      assertEquals(info[key as keyof typeof info], value, key);
    }
  });
}

// kube-apiserver's reading of boolean query parameters (Convert_Slice_string_To_bool): only the
// first value counts; "0" and any case of "false" (Go's EqualFold, where U+017F folds to "s")
// are false; every other value, the empty one included, is true. Checked against Go.
const flags: [string, boolean | undefined][] = [
  ["", undefined],
  ["?other=true", undefined],
  ...["1", "t", "T", "TRUE", "true", "True", "tRuE", "", "yes", "on", "00", "f", "F", "no"].map((
    value,
  ): [string, boolean] => [`?watch=${encodeURIComponent(value)}`, true]),
  ...["0", "false", "FALSE", "False", "fAlSe", "fal\u017fe", "FAL\u017fE"].map((
    value,
  ): [string, boolean] => [`?watch=${encodeURIComponent(value)}`, false]),
  ["?watch", true],
  ["?watch=+false", true],
  ["?watch=false+", true],
  ["?watch=%EF%BD%86alse", true], // a full-width "f" does not fold to "f"
  ["?watch=false&watch=true", false],
  ["?watch=true&watch=false", true],
];

for (const [search, expected] of flags) {
  Deno.test(`queryFlag() reads ${search || "no parameter"} as kube-apiserver does`, () => {
    assertEquals(queryFlag(new URLSearchParams(search), "watch"), expected);
    const info = parseRequestInfo("GET", "/api/v1/namespaces/shop/pods", search);
    assertEquals(info.verb, expected ? "watch" : "list");
  });
}
