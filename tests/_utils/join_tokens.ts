/**
 * Join tokens and token rotation as tests drive them: `mca agent token create`, a join asked
 * of the hub directly (to read its answer), and a load loop of requests through the hub that
 * counts every failure.
 */
import { assertEquals } from "./assert.ts";
import { runMca } from "./mca_process.ts";
import { AGENT_CLUSTER_HEADER, AGENT_JOIN_PATH } from "../../src/tunnel/mod.ts";
import { waitFor } from "../../src/common/mod.ts";
import type { TestCluster } from "../../src/testenv/mod.ts";
import { allowPrivilegedHostIdentities } from "./cluster_mapping.ts";

/** `mca agent token create`; returns the printed token and the whole output. */
export async function createJoinToken(args: string[]): Promise<{ token: string; stdout: string }> {
  const result = await runMca(["agent", "token", "create", ...args]);
  assertEquals(result.code, 0, `mca agent token create failed:\n${result.stderr}`);
  const token = /^\s+([a-z0-9]{10}\.[a-z0-9]{32})$/m.exec(result.stdout)?.[1];
  if (!token) throw new Error(`No join token in the output:\n${result.stdout}`);
  return { token, stdout: result.stdout };
}

/** POST /agent/join as an agent would: the hub's HTTP code and Status message. */
export async function askToJoin(
  hub: { url: string; caPem: string },
  { token, cluster }: { token: string; cluster: string },
): Promise<{ code: number; message: string }> {
  using client = Deno.createHttpClient({ caCerts: [hub.caPem] });
  const response = await fetch(new URL(AGENT_JOIN_PATH, hub.url), {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, [AGENT_CLUSTER_HEADER]: cluster },
    client,
  });
  const body = await response.json() as { message?: string; token?: string };
  return { code: response.status, message: body.message ?? "" };
}

/**
 * Lets the host admin (group system:masters) reach the joined member as itself (a Cluster drops
 * privileged host groups by default), and waits until a request through the hub succeeds.
 */
export async function reachAsHostAdmin(
  host: TestCluster,
  hub: { url: string; caPem: string },
  { cluster, path }: { cluster: string; path: string },
): Promise<void> {
  await allowPrivilegedHostIdentities(host, cluster);
  using client = Deno.createHttpClient({ caCerts: [hub.caPem] });
  await waitFor(async () => {
    const response = await fetch(`${hub.url}/clusters/${cluster}${path}`, {
      headers: { Authorization: `Bearer ${host.adminToken}` },
      client,
    });
    await response.body?.cancel();
    return response.status === 200;
  }, { timeoutMs: 30_000, description: "a first request through the hub as the host admin" });
}

/** Requests through the hub, a few at a time, until stopped: how many, and every failure. */
export interface LoadLoop {
  stop(): Promise<{ requests: number; failures: string[] }>;
}

/** Starts `concurrency` loops of GETs of `path` on a member through the hub. */
export function startLoad(
  hub: { url: string; caPem: string; bearer: string },
  { cluster, path, concurrency = 4 }: { cluster: string; path: string; concurrency?: number },
): LoadLoop {
  const client = Deno.createHttpClient({ caCerts: [hub.caPem] });
  let stopping = false;
  let requests = 0;
  const failures: string[] = [];
  const loop = async () => {
    while (!stopping) {
      requests++;
      try {
        const response = await fetch(`${hub.url}/clusters/${cluster}${path}`, {
          headers: { Authorization: `Bearer ${hub.bearer}` },
          client,
        });
        const text = await response.text();
        if (response.status !== 200) {
          failures.push(`HTTP ${response.status}: ${text.slice(0, 200)}`);
        }
      } catch (error) {
        failures.push(`error: ${(error as Error).message}`);
      }
    }
  };
  const loops = Array.from({ length: concurrency }, loop);
  return {
    async stop() {
      stopping = true;
      await Promise.all(loops);
      client.close();
      return { requests, failures };
    },
  };
}
