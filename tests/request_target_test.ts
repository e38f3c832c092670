import { assertEquals, assertThrows } from "./_utils/assert.ts";
import { pathUnderPrefix, RequestTargetError, requestTargetError } from "../src/request_target.ts";

Deno.test("requestTargetError() passes paths and refuses every way out of a prefix", () => {
  const passes = [
    "/",
    "/api/v1/namespaces/a/configmaps?labelSelector=a%3Db&fieldSelector=x==..",
    "/apis/apps/v1/namespaces/a.b/deployments/x.y..z",
    "/api/v1/namespaces/%61/pods/...",
    "/openapi/v3/apis/apps/v1?hash=ABC",
  ];
  for (const target of passes) assertEquals(requestTargetError(target), undefined, target);
  const refused = [
    "",
    "*",
    "api/v1",
    "-2/api/v1/secrets",
    "https://evil.example/api",
    "//evil.example/../api",
    "/..",
    "/.",
    "/a/../b",
    "/a/./b",
    "/a/%2e%2e/b",
    "/a/%2E%2E/b",
    "/a/%2e./b",
    "/a/.%2E",
    "/a/%2e",
    "/a%2fb",
    "/a%2F..",
    "/a%5cb",
    "/a\\b",
    "/a/%",
    "/a/%4",
    "/a/%g0",
    "/a b",
    "/a\tb",
    "/a\u00a0b",
    "/caf\u00e9",
    "/a\x7f",
  ];
  for (const target of refused) {
    assertEquals(typeof requestTargetError(target), "string", JSON.stringify(target));
  }
});

Deno.test("pathUnderPrefix() keeps a forwarded path below the server's prefix or throws", () => {
  assertEquals(pathUnderPrefix("/k8s/clusters/c-1", "/api?x=1"), "/k8s/clusters/c-1/api?x=1");
  assertEquals(pathUnderPrefix("/k8s/clusters/c-1/", "/api"), "/k8s/clusters/c-1/api");
  assertEquals(pathUnderPrefix("", "/version"), "/version");
  for (const target of ["-2/api/v1/secrets", "/../../../v3/users", "/%2e%2E/v3", "*"]) {
    assertThrows(() => pathUnderPrefix("/k8s/clusters/c-1", target), RequestTargetError);
  }
});
