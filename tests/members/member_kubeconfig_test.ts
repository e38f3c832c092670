import { assertEquals, assertStringIncludes, assertThrows } from "../_utils/assert.ts";
import { hubUserOf, memberKubeconfig } from "../../src/members/mod.ts";
import { parseKubeconfig } from "../../src/kube/mod.ts";

Deno.test("memberKubeconfig() has a context per member at <hub>/clusters/<name>", () => {
  const text = memberKubeconfig({
    hubUrl: "https://hub:9443/",
    caPem: "CA",
    clusters: ["east", "west"],
    user: { token: "t" },
  });
  const config = parseKubeconfig(text, "/k");
  assertEquals(config.clusters.map((c) => c.value.server), [
    "https://hub:9443/clusters/east",
    "https://hub:9443/clusters/west",
  ]);
  assertEquals(config.clusters[0]!.value["certificate-authority-data"], "CA");
  assertEquals(config.users[0]!.value.token, "t");
});

Deno.test("hubUserOf() keeps bearer credentials and refuses client certificates with a hint", () => {
  assertEquals(hubUserOf({ token: "t" }, "u"), { token: "t" });
  assertEquals(hubUserOf({ tokenFile: "/f" }, "u"), { tokenFile: "/f" });
  const exec = hubUserOf({
    exec: {
      command: "login",
      apiVersion: "client.authentication.k8s.io/v1",
      interactiveMode: "Never",
      provideClusterInfo: true,
    },
  }, "u");
  assertEquals((exec as { exec: Record<string, unknown> }).exec.provideClusterInfo, false);
  const error = assertThrows(() =>
    hubUserOf({ "client-certificate-data": "C", "client-key-data": "K" }, "admin")
  );
  assertStringIncludes(error.message, `User "admin" has no bearer token`);
});
