/** Starting the one etcd that every test API server shares (each under its own prefix). */
import { freePort } from "./free_port.ts";
import { type ManagedProcess, startManagedProcess } from "./managed_process.ts";
import { waitFor } from "../common/mod.ts";

/** A running etcd. */
export interface RunningEtcd {
  url: string;
  process: ManagedProcess;
}

/** Starts etcd on free loopback ports with its data in `dir`; resolves once it reports healthy. */
export async function startEtcd(binary: string, dir: string): Promise<RunningEtcd> {
  for (let attempt = 1;; attempt++) {
    try {
      return await startOnce(binary, dir, attempt);
    } catch (error) {
      // A port taken between choosing and binding it is retried with others.
      if (attempt >= 3 || !(error as Error).message.includes("address already in use")) throw error;
    }
  }
}

async function startOnce(binary: string, dir: string, attempt: number): Promise<RunningEtcd> {
  const clientPort = freePort();
  const peerPort = freePort();
  const url = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const process = await startManagedProcess("etcd", binary, [
    "--name=mca-testenv",
    `--data-dir=${dir}/etcd-data-${attempt}`,
    `--listen-client-urls=${url}`,
    `--advertise-client-urls=${url}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=mca-testenv=${peer}`,
    // Test data is thrown away: skipping fsync makes writes fast on small CI disks.
    "--unsafe-no-fsync",
    "--log-level=warn",
  ], { logPath: `${dir}/etcd.log` });
  // Stop waiting as soon as the process dies: its log says why.
  const died = new AbortController();
  process.exited.then((code) => died.abort(new Error(`it exited with code ${code}`)));
  try {
    await waitFor(async () => {
      const response = await fetch(`${url}/health`);
      const body = await response.json();
      return body.health === "true";
    }, { timeoutMs: 30_000, description: `etcd at ${url}`, signal: died.signal });
  } catch (error) {
    await process.stop(2_000);
    throw new Error(`etcd did not start: ${(error as Error).message}\n${await process.tail()}`);
  }
  return { url, process };
}
