// A webhook server for the benchmark: "mca" serves createWebhookApp, "noop" the same stack
// (node:https + Hono) answering "allowed" without a decision. Prints its port.
import https from "node:https";
import type { AddressInfo } from "node:net";
import { createAdaptorServer } from "@hono/node-server";
import { Hono } from "hono";
import { createWebhookApp } from "../../src/webhook/mod.ts";

const [mode, certFile, keyFile] = Deno.args;
let app: Hono;
if (mode === "noop") {
  app = new Hono();
  app.post("/mutate", async (c) => {
    const review = await c.req.json();
    return c.json({
      apiVersion: review.apiVersion,
      kind: "AdmissionReview",
      response: { uid: review.request.uid, allowed: true },
    });
  });
} else {
  app = createWebhookApp({ inject: { image: "registry.example/mca:bench" } });
}
const server = createAdaptorServer({
  fetch: app.fetch,
  createServer: https.createServer,
  serverOptions: { cert: Deno.readTextFileSync(certFile!), key: Deno.readTextFileSync(keyFile!) },
}) as https.Server;
server.listen(0, "127.0.0.1", () => console.log(`port ${(server.address() as AddressInfo).port}`));
