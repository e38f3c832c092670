import { assertEquals, assertRejects } from "../_utils/assert.ts";
import { KubeconfigError, loadClientConfig, loadKubeconfig } from "../../src/kube/mod.ts";
import { tempDir } from "../_utils/temp_dir.ts";

Deno.test("loadKubeconfig() merges KUBECONFIG files in order and skips missing ones", async () => {
  await using dir = await tempDir();
  const a = await dir.write(
    "a",
    "current-context: ca\ncontexts:\n- name: ca\n  context: {cluster: x}\n",
  );
  const b = await dir.write(
    "sub/b",
    "current-context: cb\nclusters:\n- name: x\n  cluster: {server: https://x, certificate-authority: ca.crt}\n",
  );
  await dir.write("sub/ca.crt", "B'S CA");
  const env = (name: string) => name === "KUBECONFIG" ? `${a}:${dir.path}/missing:${b}` : undefined;
  const merged = await loadKubeconfig({ env });
  assertEquals(merged.files, [a, b]);
  assertEquals(merged["current-context"], "ca");
  // Paths inside b resolve against b's folder, not the working directory.
  const config = await loadClientConfig({ env });
  assertEquals(config.tls.caPem, "B'S CA");
  assertEquals(config.source, `context "ca" in "${a}"`);
});

Deno.test("loadKubeconfig() reads ~/.kube/config by default and --kubeconfig over KUBECONFIG", async () => {
  await using dir = await tempDir();
  await dir.write(".kube/config", "current-context: home\n");
  const explicit = await dir.write("explicit", "current-context: explicit\n");
  assertEquals(
    (await loadKubeconfig({ env: (n) => n === "HOME" ? dir.path : undefined }))["current-context"],
    "home",
  );
  const env = (n: string) =>
    ({ HOME: dir.path, KUBECONFIG: `${dir.path}/.kube/config` } as Record<string, string>)[n];
  assertEquals(
    (await loadKubeconfig({ env, kubeconfig: explicit }))["current-context"],
    "explicit",
  );
});

Deno.test("loadKubeconfig() fails clearly when --kubeconfig is missing or nothing is found", async () => {
  await using dir = await tempDir();
  const env = () => undefined;
  const error = await assertRejects(
    () => loadKubeconfig({ env, kubeconfig: `${dir.path}/nope` }),
    KubeconfigError,
    "cannot read the file (from --kubeconfig)",
  );
  assertEquals((error as KubeconfigError).file, `${dir.path}/nope`);
  await assertRejects(
    () => loadKubeconfig({ env: (n) => n === "KUBECONFIG" ? `${dir.path}/none` : undefined }),
    KubeconfigError,
    `no kubeconfig found (tried "${dir.path}/none")`,
  );
});

Deno.test("loadClientConfig() names the file and field of a missing client key file", async () => {
  await using dir = await tempDir();
  const file = await dir.write(
    "config",
    "current-context: c\nclusters: [{name: c, cluster: {server: https://c}}]\n" +
      "users: [{name: u, user: {client-certificate: c.pem, client-key: k.pem}}]\n" +
      "contexts: [{name: c, context: {cluster: c, user: u}}]\n",
  );
  await dir.write("c.pem", "CERT");
  const error = await assertRejects(
    () => loadClientConfig({ kubeconfig: file, env: () => undefined }),
    KubeconfigError,
    `users["u"].user.client-key: cannot read "${dir.path}/k.pem"`,
  ) as KubeconfigError;
  assertEquals(error.file, file);
  assertEquals(error.field, `users["u"].user.client-key`);
});
