import { assert, assertEquals } from "../_utils/assert.ts";
import { parseClusterTarget } from "../../src/hub/cluster_path.ts";

Deno.test("parseClusterTarget() splits the member and its path, keeping the query", () => {
  assertEquals(parseClusterTarget("/clusters/east/api/v1/namespaces?limit=1"), {
    cluster: "east",
    path: "/api/v1/namespaces?limit=1",
  });
  assertEquals(parseClusterTarget("/clusters/east"), { cluster: "east", path: "/" });
  assertEquals(parseClusterTarget("/clusters/east/"), { cluster: "east", path: "/" });
  assertEquals(parseClusterTarget("/healthz"), undefined);
});

const escapes = [
  "/clusters/east/../west/api",
  "/clusters/east/%2e%2e/west/api",
  "/clusters/east%2Fwest/api",
  "/clusters/east/api%2F..%2Fwest",
  "/clusters/east//api/v1",
  "/clusters/../east/api",
  "/clusters//api",
  "/clusters/East/api",
  "/clusters/east/a/%zz",
];

for (const target of escapes) {
  Deno.test(`parseClusterTarget() refuses ${target}`, () => {
    assert(parseClusterTarget(target) instanceof Error);
  });
}
