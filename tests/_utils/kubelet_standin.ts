/**
 * A stand-in for the kubelet's streaming endpoints, since no kubelet runs in the test control
 * planes: an HTTPS server that accepts exec over WebSocket with the channel protocols kubectl
 * speaks (v5.channel.k8s.io, v4.channel.k8s.io). It answers every exec with one line on
 * stdout and a Success status on the error channel, and echoes what it receives on stdin.
 */
import { renderKubeconfig } from "../../src/kube/mod.ts";
import { createTestPki } from "./test_pki.ts";

/** A running stand-in and a kubeconfig that reaches it as a "cluster". */
export interface KubeletStandIn {
  url: string;
  kubeconfigPath: string;
  /** Paths of the upgrade requests it accepted, and the subprotocol chosen. */
  upgrades: { path: string; protocol: string }[];
  close(): Promise<void>;
}

const PROTOCOLS = ["v5.channel.k8s.io", "v4.channel.k8s.io"];
const STDOUT = 1;
const ERROR = 3;

/** Serves the stand-in in this process; `greeting` is written on stdout of every exec. */
export async function serveKubeletStandIn(
  dir: string,
  greeting = "hello from the stand-in kubelet\n",
): Promise<KubeletStandIn> {
  const pki = await createTestPki();
  const upgrades: KubeletStandIn["upgrades"] = [];
  const server = Deno.serve(
    {
      hostname: "127.0.0.1",
      port: 0,
      cert: pki.server.certificatePem,
      key: pki.server.privateKeyPem,
      onListen() {},
    },
    (request) => {
      const url = new URL(request.url);
      if (url.pathname === "/_upgrades") return Response.json(upgrades);
      if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
        return Response.json({
          kind: "Status",
          apiVersion: "v1",
          status: "Failure",
          code: 404,
          reason: "NotFound",
        }, { status: 404 });
      }
      const offered = (request.headers.get("sec-websocket-protocol") ?? "").split(",").map((p) =>
        p.trim()
      );
      const protocol = PROTOCOLS.find((p) => offered.includes(p));
      if (!protocol) return new Response("no supported subprotocol", { status: 400 });
      const { socket, response } = Deno.upgradeWebSocket(request, { protocol });
      upgrades.push({ path: url.pathname + url.search, protocol });
      socket.binaryType = "arraybuffer";
      const send = (channel: number, text: string) => {
        const payload = new TextEncoder().encode(text);
        const frame = new Uint8Array(payload.length + 1);
        frame[0] = channel;
        frame.set(payload, 1);
        socket.send(frame);
      };
      socket.onopen = () => {
        send(STDOUT, greeting);
        if (url.searchParams.get("stdin") !== "true") {
          send(ERROR, JSON.stringify({ metadata: {}, status: "Success" }));
          socket.close(1000);
        }
      };
      // With stdin, echo each stdin frame back on stdout.
      socket.onmessage = (event) => {
        const data = new Uint8Array(event.data as ArrayBuffer);
        if (data[0] === 0 && data.length > 1) {
          send(STDOUT, new TextDecoder().decode(data.subarray(1)));
        }
      };
      return response;
    },
  );
  const url = `https://127.0.0.1:${server.addr.port}`;
  const kubeconfigPath = `${dir}/kubelet.kubeconfig`;
  await Deno.writeTextFile(
    kubeconfigPath,
    renderKubeconfig([{
      name: "kubelet",
      server: url,
      caPem: pki.ca.certificatePem,
      user: { token: "kubelet-token" },
    }]),
  );
  return { url, kubeconfigPath, upgrades, close: () => server.shutdown() };
}

/** A stand-in running in its own process, so that its answers never wait on the test's event loop. */
export interface KubeletStandInProcess {
  url: string;
  kubeconfigPath: string;
  /** The upgrades it accepted so far. */
  upgrades(): Promise<{ path: string; protocol: string }[]>;
  close(): Promise<void>;
}

/** Starts the stand-in as a child process and waits until it listens. */
export async function startKubeletStandIn(dir: string): Promise<KubeletStandInProcess> {
  const { startManagedProcess, waitFor } = await import("../../src/testenv/mod.ts");
  const process = await startManagedProcess("kubelet-standin", Deno.execPath(), [
    "run",
    "--allow-all",
    "--quiet",
    new URL("./kubelet_standin_main.ts", import.meta.url).pathname,
    dir,
  ], { logPath: `${dir}/kubelet-standin-${crypto.randomUUID().slice(0, 6)}.log` });
  const line = await waitFor(
    async () => /standin (\S+) (\S+)/.exec(await process.tail(5)) ?? undefined,
    {
      description: "the stand-in kubelet",
    },
  );
  const [, url, kubeconfigPath] = line as unknown as [string, string, string];
  const caPem = atob(
    /certificate-authority-data: (\S+)/.exec(await Deno.readTextFile(kubeconfigPath))![1]!,
  );
  return {
    url,
    kubeconfigPath,
    async upgrades() {
      const client = Deno.createHttpClient({ caCerts: [caPem] });
      try {
        return await (await fetch(`${url}/_upgrades`, { client })).json();
      } finally {
        client.close();
      }
    },
    close: () => process.stop(),
  };
}
