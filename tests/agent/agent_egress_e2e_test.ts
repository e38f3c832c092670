/**
 * The agent behind a real forward proxy (Debian's tinyproxy, with Basic credentials): it reaches
 * the hub by a name only the proxy resolves, so through the proxy or not at all; wrong
 * credentials keep it out with the proxy's status in its log (and never the password); NO_PROXY
 * naming the hub sends it direct.
 */
import { lookup } from "node:dns/promises";
import { assert, assertEquals, assertRejects } from "../_utils/assert.ts";
import { e2eTest } from "../_utils/e2e.ts";
import { type HubFixture, withHubFixture } from "../_utils/hub_fixture.ts";
import { mcaCommand } from "../_utils/mca_process.ts";
import { startTinyproxy, withHostsFile, writeHostsFile } from "../_utils/tinyproxy.ts";
import { computeCaPin } from "../../src/pki/mod.ts";
import { waitFor } from "../../src/common/mod.ts";
import { type ManagedProcess, startManagedProcess } from "../../src/testenv/mod.ts";

/** A name the machine does not resolve (.test is reserved, RFC 6761); tinyproxy does. */
const HUB_NAME = "hub.egress.test";
/** The hub's name for the agent that NO_PROXY sends direct. */
const DIRECT_NAME = "direct.egress.test";
const PASSWORD = "s3cretPass";

e2eTest(
  "an agent reaches the hub through an HTTPS_PROXY with credentials, and only through it",
  (env) =>
    withHubFixture(env, async (fixture, dir) => {
      const host = env.cluster("host");
      const member = await fixture.registerMember(env.cluster("east"));
      const proxy = await startTinyproxy(dir, {
        user: "agent",
        password: PASSWORD,
        hosts: { [HUB_NAME]: "127.0.0.1" },
      });
      try {
        await assertRejects(() => lookup(HUB_NAME)); // so a direct dial cannot work
        const hubUrl = `https://${HUB_NAME}:${fixture.hub.port}`;

        // Wrong credentials: the proxy refuses, the agent says so and keeps retrying.
        const wrongUrl = proxy.url.replace(PASSWORD, "wrongPass");
        const refused = await startAgent(fixture, member, dir, {
          hubUrl,
          env: { HTTPS_PROXY: wrongUrl },
        });
        const refusal = new RegExp(
          `cannot connect to the hub .*Proxy 127\\.0\\.0\\.1:${proxy.port}: ` +
            `CONNECT ${HUB_NAME}:${fixture.hub.port} answered 40[17] `,
          "g",
        );
        await waitFor(async () => ((await log(refused)).match(refusal) ?? []).length >= 2, {
          description: "the agent to retry after the proxy's refusal",
        });
        assert(!(await log(refused)).includes("wrongPass"), "the password is not logged");
        assertEquals(await fixture.hub.agents(member), 0);
        await refused.stop();

        // The right credentials: connected through the proxy, and requests reach the member.
        const agent = await startAgent(fixture, member, dir, {
          hubUrl,
          env: { https_proxy: proxy.url, NO_PROXY: "localhost,10.0.0.0/8,.example.com" },
        });
        await waitFor(async () => (await fixture.hub.agents(member)) === 1, {
          description: "the agent to connect through the proxy",
        });
        const response = await fetch(
          `${fixture.hub.url}/clusters/${member}/api/v1/namespaces/default`,
          {
            headers: { Authorization: `Bearer ${host.adminToken}` },
            client: Deno.createHttpClient({ caCerts: [fixture.hub.caPem] }),
          },
        );
        assertEquals(response.status, 200);
        assertEquals((await response.json()).metadata.name, "default");
        assert((await proxy.connects()).includes(`${HUB_NAME}:${fixture.hub.port}`));
        assert((await proxy.established()).includes(HUB_NAME));
        assert(!(await log(agent)).includes(PASSWORD), "the password is not logged");
        await agent.stop();
        await waitFor(async () => (await fixture.hub.agents(member)) === 0, {
          description: "the hub to notice the agent left",
        });

        // NO_PROXY names the hub: the agent (which resolves the name itself here) goes direct. It
        // dials the hub by a name of its own, so the proxy's log tells its CONNECTs apart from the
        // earlier agents' (tinyproxy's children may write those lines late, so counts would race).
        const directUrl = `https://${DIRECT_NAME}:${fixture.hub.port}`;
        const direct = await startAgent(fixture, member, dir, {
          hubUrl: directUrl,
          env: { HTTPS_PROXY: proxy.url, NO_PROXY: `example.com,.egress.test` },
          hosts: await writeHostsFile(`${dir}/agent.hosts`, { [DIRECT_NAME]: "127.0.0.1" }),
        });
        await waitFor(async () => (await fixture.hub.agents(member)) === 1, {
          description: "the agent to connect directly",
        });
        await direct.stop();
      } finally {
        await proxy.stop();
      }
      // After the proxy stopped, its log is complete.
      const connects = await proxy.connects();
      assert(connects.includes(`${HUB_NAME}:${fixture.hub.port}`), connects.join(", "));
      assert(!connects.some((c) => c.startsWith(DIRECT_NAME)), connects.join(", "));
    }, { hubArgs: [`--dns-names=localhost,${HUB_NAME},${DIRECT_NAME}`] }),
);

/** Starts `mca agent` for a registered member, with a proxy environment and an /etc/hosts. */
async function startAgent(
  fixture: HubFixture,
  member: string,
  dir: string,
  options: { hubUrl: string; env: Record<string, string>; hosts?: string },
): Promise<ManagedProcess> {
  const files = fixture.memberFiles(member);
  const argv = [
    ...mcaCommand(),
    "agent",
    `--hub=${options.hubUrl}`,
    `--cluster=${member}`,
    `--token-file=${files.tokenFile}`,
    `--hub-ca-file=${fixture.hubCaFile}`,
    `--hub-ca-pin=${await computeCaPin(fixture.hub.caPem)}`,
    `--member-kubeconfig=${files.memberKubeconfig}`,
    "--health-listen=",
    "--log-format=text",
  ];
  const [command, ...args] = options.hosts ? withHostsFile(options.hosts, argv) : argv;
  const name = `agent-${crypto.randomUUID().slice(0, 6)}`;
  return await startManagedProcess(name, command!, args, {
    logPath: `${dir}/${name}.log`,
    // Never the test's own proxy settings: each case says what it wants. Deno's own update
    // check would dial dl.deno.land through the proxy at times of its choosing.
    env: {
      HTTPS_PROXY: "",
      https_proxy: "",
      NO_PROXY: "",
      no_proxy: "",
      DENO_NO_UPDATE_CHECK: "1",
      ...options.env,
    },
  });
}

function log(agent: ManagedProcess): Promise<string> {
  return Deno.readTextFile(agent.logPath);
}
