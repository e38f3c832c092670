import { loadOrCreateProxyIdentity } from "../../src/proxy/proxy_identity.ts";
import { writeAppCredentials } from "../../src/proxy/app_credentials.ts";
import { assert, assertEquals, assertNotEquals } from "../_utils/assert.ts";
import { tempDir } from "../_utils/temp_dir.ts";

Deno.test("loadOrCreateProxyIdentity() keeps the token and CA of an earlier run in its state folder", async () => {
  await using dir = await tempDir();
  const state = `${dir.path}/state`;
  const first = await loadOrCreateProxyIdentity(state);
  const second = await loadOrCreateProxyIdentity(state);
  assertEquals(first.reused, false);
  assertEquals(second.reused, true);
  assertEquals(second.token, first.token);
  assertEquals(second.ca.certificatePem, first.ca.certificatePem);
  // The CA's key is readable by the proxy's user only.
  for (const entry of Deno.readDirSync(state)) {
    assertEquals((Deno.statSync(`${state}/${entry.name}`).mode ?? 0) & 0o077, 0, entry.name);
  }
});

Deno.test("loadOrCreateProxyIdentity() without a state folder makes a new identity each time", async () => {
  const first = await loadOrCreateProxyIdentity(undefined);
  const second = await loadOrCreateProxyIdentity(undefined);
  assertNotEquals(second.token, first.token);
  assertEquals(second.reused, false);
});

Deno.test("the apps' folder holds only ca.crt, namespace and token: never the CA's private key", async () => {
  await using dir = await tempDir();
  const app = `${dir.path}/app`;
  const state = `${dir.path}/state`;
  const identity = await loadOrCreateProxyIdentity(state);
  await writeAppCredentials(app, {
    caPem: identity.ca.certificatePem,
    namespace: "shop",
    token: identity.token,
  });
  const names = [...Deno.readDirSync(app)].map((entry) => entry.name).sort();
  assertEquals(names, ["ca.crt", "namespace", "token"]);
  for (const name of names) {
    assert(!Deno.readTextFileSync(`${app}/${name}`).includes("PRIVATE KEY"), name);
  }
});
