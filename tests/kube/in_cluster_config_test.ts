import { assertEquals, assertRejects } from "../_utils/assert.ts";
import { inClusterConfig } from "../../src/kube/mod.ts";
import { tempDir } from "../_utils/temp_dir.ts";

Deno.test("inClusterConfig() reads the service environment and the service-account folder", async () => {
  await using dir = await tempDir();
  await dir.write("token", "pod-token\n");
  await dir.write("ca.crt", "CLUSTER CA");
  await dir.write("namespace", "team-a\n");
  const env = (name: string) =>
    ({ KUBERNETES_SERVICE_HOST: "fd00::1", KUBERNETES_SERVICE_PORT: "443" })[name];
  const config = await inClusterConfig({ env, serviceAccountDir: dir.path });
  assertEquals(config.server, "https://[fd00::1]:443");
  assertEquals(config.tls, { caPem: "CLUSTER CA", insecureSkipVerify: false });
  assertEquals(config.credentials, {
    type: "tokenFile",
    path: `${dir.path}/token`,
    token: "pod-token",
  });
  assertEquals(config.namespace, "team-a");
  assertEquals(config.source, "in-cluster");
});

Deno.test("inClusterConfig() explains what is missing outside a pod", async () => {
  await using dir = await tempDir();
  await assertRejects(
    () => inClusterConfig({ env: () => undefined, serviceAccountDir: dir.path }),
    Error,
    "KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set",
  );
  const env = (name: string) =>
    ({ KUBERNETES_SERVICE_HOST: "10.0.0.1", KUBERNETES_SERVICE_PORT: "443" })[name];
  await assertRejects(
    () => inClusterConfig({ env, serviceAccountDir: dir.path }),
    Error,
    `cannot read "${dir.path}/token"`,
  );
});
