/** The hub is ready only while it can follow agent tokens on the host (revocations must work). */
import { assertEquals, assertStringIncludes } from "../_utils/assert.ts";
import { e2eTest, kubectlOk, uniqueName } from "../_utils/e2e.ts";
import { tempDir } from "../_utils/temp_dir.ts";
import { renderKubeconfig } from "../../src/kube/mod.ts";
import { waitFor } from "../../src/common/mod.ts";
import { startHubFixture } from "../_utils/hub_fixture.ts";
import { startHubProcess } from "../_utils/hub_process.ts";

async function readyz(url: string, caPem: string) {
  const client = Deno.createHttpClient({ caCerts: [caPem] });
  try {
    const response = await fetch(`${url}/readyz`, { client });
    return { status: response.status, text: await response.text() };
  } finally {
    client.close();
  }
}

e2eTest("the hub reports ready only while it follows agent tokens on the host", async (env) => {
  const host = env.cluster("host");
  await using dir = await tempDir();
  const fixture = await startHubFixture(env, dir.path);
  try {
    await waitFor(async () => (await readyz(fixture.hub.url, fixture.hub.caPem)).status === 200, {
      description: "the hub to be ready",
    });
  } finally {
    await fixture.stop();
  }

  // A hub whose host identity may keep its CA but not list Secrets cannot see revocations.
  const namespace = uniqueName("mca-hub-blind");
  await kubectlOk(host, ["create", "namespace", namespace]);
  await kubectlOk(host, ["create", "serviceaccount", "hub", "-n", namespace]);
  await kubectlOk(host, [
    "create",
    "role",
    "ca-only",
    "-n",
    namespace,
    "--verb=get,create,update,patch",
    "--resource=secrets",
  ]);
  await kubectlOk(host, [
    "create",
    "rolebinding",
    "ca-only",
    "-n",
    namespace,
    "--role=ca-only",
    `--serviceaccount=${namespace}:hub`,
  ]);
  const token = (await kubectlOk(host, ["create", "token", "hub", "-n", namespace])).trim();
  const kubeconfig = await dir.write(
    "blind.kubeconfig",
    renderKubeconfig([{ name: "host", server: host.url, caPem: host.caPem, user: { token } }]),
  );
  // It never gets ready: wait only for its listener, then for its first failed attempt to list.
  const hub = await startHubProcess(host, dir.path, {
    namespace,
    kubeconfig,
    waitUntil: "listening",
  });
  try {
    await waitFor(
      async () => (await hub.process.tail(100)).includes("watching agent tokens failed"),
      { description: "the hub to try to follow the agent tokens" },
    );
    const answer = await readyz(hub.url, hub.caPem);
    assertEquals(answer.status, 503);
    assertStringIncludes(answer.text, "cannot follow the agent tokens on the host");
  } finally {
    await hub.stop();
  }
});

e2eTest("the hub shows /metrics only to callers the host allows get on /metrics", async (env) => {
  const host = env.cluster("host");
  await using dir = await tempDir();
  const fixture = await startHubFixture(env, dir.path);
  const client = Deno.createHttpClient({ caCerts: [fixture.hub.caPem] });
  try {
    const namespace = uniqueName("metrics");
    await kubectlOk(host, ["create", "namespace", namespace]);
    const tokenOf = async (name: string) => {
      await kubectlOk(host, ["create", "serviceaccount", name, "-n", namespace]);
      return (await kubectlOk(host, ["create", "token", name, "-n", namespace])).trim();
    };
    const scraper = await tokenOf("scraper");
    const stranger = await tokenOf("stranger");
    await kubectlOk(host, [
      "create",
      "clusterrole",
      `${namespace}-metrics`,
      "--verb=get",
      "--non-resource-url=/metrics",
    ]);
    await kubectlOk(host, [
      "create",
      "clusterrolebinding",
      `${namespace}-metrics`,
      `--clusterrole=${namespace}-metrics`,
      `--serviceaccount=${namespace}:scraper`,
    ]);
    const metrics = async (token?: string) => {
      const response = await fetch(`${fixture.hub.url}/metrics`, {
        headers: token ? { Authorization: `Bearer ${token}` } : {},
        client,
      });
      return { status: response.status, text: await response.text() };
    };
    assertEquals((await metrics()).status, 401);
    const denied = await metrics(stranger);
    assertEquals(denied.status, 403);
    assertStringIncludes(denied.text, 'cannot get path \\"/metrics\\"');
    const allowed = await metrics(scraper);
    assertEquals(allowed.status, 200, allowed.text);
    assertStringIncludes(allowed.text, "mca_hub_requests_total");
  } finally {
    client.close();
    await fixture.stop();
  }
});
