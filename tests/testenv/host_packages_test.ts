/** Which Debian packages a node still needs, and what a machine without them is told. */
import { assertEquals, assertRejects, assertStringIncludes } from "../_utils/assert.ts";
import { ensureHostPackages, missingPackages, NODE_PACKAGES } from "../../src/testenv/mod.ts";

Deno.test("missingPackages() names each package with a file missing, accepting any listed location", () => {
  const present = new Set([
    "/usr/bin/containerd",
    "/usr/bin/ctr",
    "/usr/bin/runc",
    "/usr/bin/umoci",
  ]);
  const missing = missingPackages(NODE_PACKAGES, (path) => present.has(path));
  assertEquals(missing.includes("containerd"), false);
  assertEquals(missing.includes("runc"), false, "runc in /usr/bin counts");
  assertEquals(missing.includes("umoci"), false);
  for (const name of ["containernetworking-plugins", "skopeo", "iptables", "conntrack"]) {
    assertEquals(missing.includes(name), true, name);
  }
  assertEquals(missingPackages(NODE_PACKAGES, () => true), []);
  assertEquals(missingPackages(NODE_PACKAGES, () => false), NODE_PACKAGES.map((p) => p.name));
});

Deno.test("missingPackages() needs every file of a package", () => {
  const cni = NODE_PACKAGES.filter((p) => p.name === "containernetworking-plugins");
  assertEquals(missingPackages(cni, (path) => path === "/usr/lib/cni/bridge"), [
    "containernetworking-plugins",
  ]);
});

Deno.test("ensureHostPackages() without install names the missing packages and the command", async () => {
  // This machine has them all (the nodes tests need them): checking passes quietly.
  await ensureHostPackages({ install: false });
  const error = await assertRejects(() =>
    ensureHostPackages({
      install: false,
      packages: [{ name: "mca-no-such-package", files: [["/nonexistent/mca-tool"]] }],
    })
  );
  assertStringIncludes(error.message, `"mca-no-such-package"`);
  assertStringIncludes(error.message, "apt-get install -y mca-no-such-package");
});
