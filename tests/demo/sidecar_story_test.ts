import { assertEquals } from "../_utils/assert.ts";
import { requestsFromSidecarLog } from "../../scripts/demo/sidecar_story.ts";

Deno.test("requestsFromSidecarLog() tells each ConfigMap request with its cluster and path", () => {
  const log = [
    "Warning: not JSON",
    JSON.stringify({ msg: "proxy listening", port: 6443 }),
    JSON.stringify({
      msg: "request",
      verb: "create",
      path: "/api/v1/namespaces/shop/configmaps",
      name: "a",
      cluster: "east",
      reason: 'route "east"',
      code: 201,
    }),
    JSON.stringify({
      msg: "request",
      verb: "get",
      path: "/api/v1/namespaces/shop/configmaps/b",
      cluster: "home",
      reason: "default",
      code: 200,
    }),
    JSON.stringify({
      msg: "merged read",
      verb: "list",
      path: "/api/v1/namespaces/shop/configmaps",
      clusters: ["home", "east"],
      reason: "merge",
    }),
    JSON.stringify({ msg: "request", verb: "get", path: "/api/v1/namespaces/shop/pods/x" }),
  ].join("\n");
  assertEquals(requestsFromSidecarLog(log, { viaHub: ["east"], user: "u" }), [
    'CREATE ConfigMap shop/a → east (route "east"), HTTP 201\n' +
    "      app → sidecar → hub → east's agent → east, as u",
    "GET ConfigMap shop/b → home (default), HTTP 200\n" +
    "      app → sidecar → home, with the pod's own token",
    "LIST ConfigMaps in shop: merged from home, east (merge); each item annotated mca.k8s.io/cluster",
  ]);
});
