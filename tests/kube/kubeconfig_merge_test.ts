import { assertEquals } from "../_utils/assert.ts";
import { kubeconfigPaths, mergeKubeconfigs, parseKubeconfig } from "../../src/kube/mod.ts";

Deno.test("mergeKubeconfigs() lets the first file win per name and for current-context", () => {
  const first = parseKubeconfig(
    "clusters:\n- name: shared\n  cluster: {server: https://first}\nusers:\n- name: u1\n  user: {token: a}",
    "/one",
  );
  const second = parseKubeconfig(
    "current-context: c2\nclusters:\n- name: shared\n  cluster: {server: https://second, insecure-skip-tls-verify: true}\n" +
      "- name: only2\n  cluster: {server: https://only2}\ncontexts:\n- name: c2\n  context: {cluster: only2}",
    "/two",
  );
  const third = parseKubeconfig("current-context: c3", "/three");
  const merged = mergeKubeconfigs([first, second, third]);
  assertEquals(merged.clusters.map((c) => [c.name, c.value.server, c.file]), [
    ["shared", "https://first", "/one"],
    ["only2", "https://only2", "/two"],
  ]);
  // Entries are never merged field by field: the first "shared" has no insecure flag.
  assertEquals(merged.clusters[0]!.value["insecure-skip-tls-verify"], undefined);
  assertEquals(merged["current-context"], "c2");
  assertEquals(merged.currentContextFile, "/two");
  assertEquals(merged.files, ["/one", "/two", "/three"]);
});

Deno.test("kubeconfigPaths() follows kubectl's precedence", () => {
  assertEquals(kubeconfigPaths({ explicitPath: "/x", kubeconfigEnv: "/a:/b", home: "/h" }), {
    paths: ["/x"],
    mustExist: true,
    origin: "--kubeconfig",
  });
  assertEquals(kubeconfigPaths({ kubeconfigEnv: "/a::/b:/a", home: "/h" }), {
    paths: ["/a", "/b"],
    mustExist: false,
    origin: "KUBECONFIG",
  });
  assertEquals(kubeconfigPaths({ home: "/h" }), {
    paths: ["/h/.kube/config"],
    mustExist: false,
    origin: "default",
  });
  assertEquals(kubeconfigPaths({}).paths, []);
});
