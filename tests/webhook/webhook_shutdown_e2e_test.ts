/**
 * `mca webhook` stopping under load, as in a rollout: after SIGTERM it keeps answering for
 * `--shutdown-delay` (unready, asking clients to close their connections) while the API
 * server's endpoints drop it, then finishes what is open. Clients here keep their connections
 * alive as kube-apiserver's does, and go on sending for a while after the signal, as the API
 * server does until its endpoints change.
 */
import https from "node:https";
import { podReview } from "../_utils/admission_review.ts";
import { assert, assertEquals } from "../_utils/assert.ts";
import { e2eTest, kubectlOk, uniqueName } from "../_utils/e2e.ts";
import { tempDir } from "../_utils/temp_dir.ts";
import { caBundle, startWebhook, waitReady } from "../_utils/webhook_process.ts";
import { freePort } from "../../src/testenv/mod.ts";
import { waitFor } from "../../src/common/mod.ts";

/** What the clients saw, before and after the signal. */
interface Seen {
  ok: number;
  failures: string[];
  /** Answers after the signal that asked for the connection to be closed. */
  closeAsked: number;
}

function review(uid: string): string {
  return JSON.stringify(podReview({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: uid, namespace: "apps", labels: { "mca.k8s.io/inject": "true" } },
    spec: { containers: [{ name: "app", image: "registry.example/app:1" }] },
  }, { uid }));
}

function post(agent: https.Agent, port: number, path: string, body: string) {
  return new Promise<{ status: number; connection: string | undefined; body: string }>(
    (resolve, reject) => {
      const request = https.request({
        host: "127.0.0.1",
        port,
        path,
        method: path === "/readyz" ? "GET" : "POST",
        agent,
        headers: { "content-type": "application/json" },
        timeout: 20_000,
      }, (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (chunk) => text += chunk);
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            connection: response.headers.connection,
            body: text,
          }));
        response.on("error", reject);
      });
      request.on("timeout", () => request.destroy(new Error("timed out")));
      request.on("error", reject);
      request.end(path === "/readyz" ? undefined : body);
    },
  );
}

e2eTest(
  "mca webhook stops under load without failing a review: it answers through --shutdown-delay, unready and asking clients to close, then exits",
  async (env) => {
    const host = env.cluster("host");
    await using dir = await tempDir();
    const namespace = uniqueName("mca-system");
    const configuration = uniqueName("mca-stop");
    await kubectlOk(host, ["create", "namespace", namespace]);
    const port = freePort();
    const webhook = await startWebhook(host, {
      dir: dir.path,
      namespace,
      configuration,
      port,
      extraArgs: ["--shutdown-delay=3s"],
    });
    try {
      await waitReady(host, configuration, port, webhook);
      const agent = new https.Agent({
        keepAlive: true,
        maxSockets: 8,
        ca: (await caBundle(host, configuration))!,
      });
      const before: Seen = { ok: 0, failures: [], closeAsked: 0 };
      const after: Seen = { ok: 0, failures: [], closeAsked: 0 };
      let signalled = false;
      let sending = true;
      let sent = 0;
      const worker = async () => {
        while (sending) {
          const seen = signalled ? after : before;
          try {
            const answer = await post(agent, port, "/mutate", review(`pod-${++sent}`));
            if (answer.status === 200 && answer.body.includes('"allowed":true')) seen.ok++;
            else seen.failures.push(`HTTP ${answer.status}: ${answer.body.slice(0, 200)}`);
            if (signalled && answer.connection === "close") seen.closeAsked++;
          } catch (error) {
            seen.failures.push((error as Error).message);
          }
        }
      };
      const workers = Array.from({ length: 8 }, worker);
      await waitFor(() => before.ok >= 200, { timeoutMs: 60_000, description: "200 reviews" });

      signalled = true;
      const stopped = webhook.stop(30_000);
      // The API server keeps calling until its endpoints drop the replica (about a second).
      await waitFor(() => after.ok >= 100, {
        timeoutMs: 2_500,
        description: "100 reviews answered after SIGTERM",
      }).catch((error) => {
        throw new Error(`${error.message}; failures: ${after.failures.slice(0, 3).join("; ")}`);
      });
      const readiness = await post(agent, port, "/readyz", "");
      sending = false;
      await Promise.all(workers);
      await stopped;
      agent.destroy();

      assertEquals(before.failures, [], "no review failed before the signal");
      assertEquals(after.failures, [], "no review failed after the signal");
      assertEquals(readiness.status, 503, "unready while stopping");
      assert(
        after.closeAsked > 0,
        `answers after the signal ask clients to close (${after.closeAsked} of ${after.ok})`,
      );
      assertEquals(await webhook.exited, 0, await webhook.tail());
      const log = await Deno.readTextFile(webhook.logPath);
      assert(log.includes("still answering while endpoints drop this replica"), log);
      assert(/webhook stopped.*cut=false/.test(log), log);
    } finally {
      await webhook.stop();
    }
  },
);
