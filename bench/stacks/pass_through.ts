/**
 * The least any proxy in Deno can do: forward each GET (path and Authorization) to one HTTPS
 * upstream and stream the answer back, over TLS, with no routing, credentials or logging. The proxy benchmark
 * runs it on several server/client stacks next to `mca proxy` and `kubectl proxy`, so that the
 * table shows how much of mca's cost is its own and how fast each Deno stack can go at all.
 *
 * Usage: pass_through.ts STACK PORT UPSTREAM_URL CA_FILE CERT_FILE KEY_FILE; prints "ready".
 * STACK: node-node (node:https server and client), serve-fetch (Deno.serve and
 * fetch), serve-node (Deno.serve and a node:https client), tls-raw (node:tls sockets both sides
 * with a minimal HTTP/1.1 of its own, see tls_raw.ts; mca's stack since it has its own).
 */
import type { IncomingMessage } from "node:http";
import https from "node:https";
import { Readable } from "node:stream";
import { serveTlsRaw } from "./tls_raw.ts";

const [stack, port, upstreamUrl, caFile, certFile, keyFile] = Deno.args;
const ca = await Deno.readTextFile(caFile!);
const cert = await Deno.readTextFile(certFile!);
const key = await Deno.readTextFile(keyFile!);
const upstream = new URL(upstreamUrl!);
const agent = new https.Agent({ keepAlive: true, maxSockets: 256, ca });
const listen = { hostname: "127.0.0.1", port: Number(port) };

/** A GET to the upstream with node:https; resolves with the response once its head is in. */
function nodeGet(path: string, authorization: string | undefined): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    https.get({
      hostname: upstream.hostname,
      port: upstream.port,
      path,
      agent,
      servername: "localhost",
      headers: authorization ? { authorization } : {},
    }, resolve).on("error", reject);
  });
}

function pathOf(request: Request): string {
  const url = new URL(request.url);
  return url.pathname + url.search;
}

switch (stack) {
  case "node-node":
    https.createServer({ cert, key }, async (request, response) => {
      const answer = await nodeGet(request.url!, request.headers.authorization);
      response.writeHead(answer.statusCode!, answer.headers);
      answer.pipe(response);
    }).listen(listen.port, listen.hostname, () => console.log("ready"));
    break;
  case "serve-fetch": {
    const client = Deno.createHttpClient({ caCerts: [ca] });
    Deno.serve({ ...listen, cert, key, onListen: () => console.log("ready") }, async (request) => {
      const authorization = request.headers.get("authorization");
      const answer = await fetch(upstream.origin + pathOf(request), {
        client,
        headers: authorization ? { authorization } : {},
      });
      return new Response(answer.body, {
        status: answer.status,
        headers: { "content-type": answer.headers.get("content-type") ?? "application/json" },
      });
    });
    break;
  }
  case "serve-node":
    Deno.serve({ ...listen, cert, key, onListen: () => console.log("ready") }, async (request) => {
      const answer = await nodeGet(
        pathOf(request),
        request.headers.get("authorization") ?? undefined,
      );
      return new Response(Readable.toWeb(answer) as ReadableStream<Uint8Array>, {
        status: answer.statusCode!,
        headers: { "content-type": String(answer.headers["content-type"] ?? "application/json") },
      });
    });
    break;
  case "tls-raw":
    serveTlsRaw({ port: listen.port, upstream, ca, cert, key });
    break;
  default:
    console.error(`unknown stack "${stack}" (node-node, serve-fetch, serve-node, tls-raw)`);
    Deno.exit(2);
}
