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

/** Starts the stand-in; `greeting` is written on stdout of every exec. */
export async function startKubeletStandIn(
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
