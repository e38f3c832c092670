/**
 * The hub CA rollover as deployed: hub pods from the chart on host, agent pods that `mca agent
 * install` put on east's node, a loop of real requests through the hub's NodePort while
 * `mca hub ca rotate` runs; the agent pods are restarted after the switch and come back with
 * the pin they stored in their Secret.
 */
import { assertEquals } from "../_utils/assert.ts";
import { e2eTest, kubectlOk } from "../_utils/e2e.ts";
import { hubCaSecret, rotate, servedBy } from "../_utils/hub_ca_rollover.ts";
import { installAgent, installMcaChart } from "../_utils/mca_chart.ts";
import { startRequestLoad } from "../_utils/request_load.ts";
import { MCA_NAMESPACE } from "../../src/testenv/mod.ts";
import { waitFor } from "../../src/common/mod.ts";

e2eTest(
  "agent pods follow a hub CA rollover of the hub pods and reconnect after a restart with the stored pin",
  async (env) => {
    const host = env.cluster("host");
    const east = env.cluster("east");
    const { hubUrl, hubCaPem } = await installMcaChart(env);
    await installAgent(env, "east");
    let clientTrust = hubCaPem;
    const load = startRequestLoad(`${hubUrl}/clusters/east/api/v1/namespaces/default`, {
      token: host.adminToken,
      trust: () => clientTrust,
      workers: 2,
    });
    try {
      await waitFor(() => load.ok() > 10 || undefined, { description: "the load running" });
      load.phase("prepare");
      const prepared = await rotate(host, MCA_NAMESPACE, "prepare");
      assertEquals(prepared.code, 0, prepared.stderr);
      clientTrust = (await hubCaSecret(host, MCA_NAMESPACE))["ca-bundle.crt"]!;
      // The hub pods check the Secret every 10 s; the agents then store and acknowledge.
      load.phase("switch");
      await waitFor(
        async () => (await rotate(host, MCA_NAMESPACE, "switch")).code === 0 || undefined,
        {
          description: "the switch to be allowed (every agent pod holding the next pin)",
          timeoutMs: 90_000,
        },
      );
      const newCa = (await hubCaSecret(host, MCA_NAMESPACE))["ca.crt"]!;
      // Every hub pod behind the NodePort serves with the new CA within --ca-check-interval:
      // only then may clients drop the old one (several new connections, as kube-proxy spreads).
      const { hostname, port } = new URL(hubUrl);
      await waitFor(async () => {
        const checks = await Promise.all(
          Array.from({ length: 8 }, () => servedBy(Number(port), newCa, hostname)),
        );
        return checks.every(Boolean) || undefined;
      }, { description: "every hub pod serving with the new CA", timeoutMs: 60_000 });
      // New agent pods start from the Secret install wrote (the old pin) and what they stored.
      load.phase("agent stopped");
      await kubectlOk(east, ["rollout", "restart", "deployment/mca-agent", "-n", "mca-agent"]);
      await kubectlOk(east, [
        "rollout",
        "status",
        "deployment/mca-agent",
        "-n",
        "mca-agent",
        "--timeout=120s",
      ]);
      const stored = JSON.parse(
        await kubectlOk(east, ["get", "secret", "mca-agent", "-n", "mca-agent", "-o", "json"]),
      );
      assertEquals(atob(stored.data["hub-trust.crt"]).includes(newCa.trim()), true);
      load.phase("finish");
      const finished = await rotate(host, MCA_NAMESPACE, "finish");
      assertEquals(finished.code, 0, finished.stderr);
      clientTrust = newCa;
      const mark = load.ok();
      await waitFor(() => load.ok() > mark + 20 || undefined, {
        description: "requests through the hub after the finish",
        timeoutMs: 60_000,
      });
    } finally {
      const result = await load.stop();
      console.log(
        `pods rollover load: ${result.ok} ok, ${result.failed} failed ${
          JSON.stringify(result.failedIn)
        }`,
      );
      const { ["agent stopped"]: _, ...rollover } = result.failedIn;
      assertEquals(rollover, {}, [...result.phases, ...result.failures].join("\n"));
    }
  },
  { nodes: true },
);
