/**
 * The floor of a three-hop tunnel in Deno: terminates TLS and pipes the bytes to an upstream over
 * a new TLS connection, nothing else (no HTTP, no yamux, no WebSocket). Two of these in a row
 * make client → relay → relay → member: the TLS work of mca's tunnel and none of its own.
 *
 * Usage: tls_relay.ts PORT UPSTREAM_HOST:PORT UPSTREAM_CA_FILE CERT_FILE KEY_FILE; prints "ready".
 */
import tls from "node:tls";
import { spliceSockets } from "../../src/forward/mod.ts";

const [port, upstream, caFile, certFile, keyFile] = Deno.args;
const [host, upstreamPort] = upstream!.split(":");
const ca = await Deno.readTextFile(caFile!);
const server = tls.createServer({
  cert: await Deno.readTextFile(certFile!),
  key: await Deno.readTextFile(keyFile!),
}, (client) => {
  const up = tls.connect({ host, port: Number(upstreamPort), ca, servername: "localhost" });
  for (const socket of [client, up]) socket.setNoDelay(true);
  spliceSockets(client, up);
});
server.listen(Number(port), "127.0.0.1", () => console.log("ready"));
